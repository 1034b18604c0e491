using Xunit.Abstractions;
using Xunit.Sdk;

namespace Gateway.Cluster.Tests.Infrastructure;

/// <summary>
/// Runs the tests of a class in the order of their method names (cases of one theory in their order of declaration),
/// for a class whose shared cluster one test leaves in a state the others should not start from: that test is named to
/// sort last.
/// </summary>
public sealed class ByMethodNameOrderer : ITestCaseOrderer
{
    public const string TypeName = "Gateway.Cluster.Tests.Infrastructure.ByMethodNameOrderer";

    public const string AssemblyName = "Gateway.Cluster.Tests";

    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases)
        where TTestCase : ITestCase =>
        testCases.OrderBy(testCase => testCase.TestMethod.Method.Name, StringComparer.Ordinal);
}
