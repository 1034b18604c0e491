using Gateway.Deployment.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Gateway.Deployment.Tests.Monitoring;

/// <summary>
/// promtool checks and unit-tests the rules. A missing promtool fails these tests (CI must install Debian's
/// <c>prometheus</c> package) unless GATEWAY_SKIP_PROMTOOL=1 says to skip them on purpose.
/// </summary>
public sealed class PromtoolTests(ITestOutputHelper output)
{
    public const string UnitTests = "k8s/monitoring/tests/gateway-alerts-test.yml";

    [Fact]
    public void Promtool_CheckRules_AcceptsTheRulesFile()
    {
        if (SkipRequested())
        {
            return;
        }

        var result = ExternalTool.Promtool.Run("check", "rules", AlertRuleTests.RulesFile);

        Assert.True(result.ExitCode == 0, result.Describe($"promtool check rules {AlertRuleTests.RulesFile}"));
        Assert.Contains($"SUCCESS: {AlertRuleTests.ExpectedSeverities.Count} rules found", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void Promtool_TestRules_PassesEveryUnitTest()
    {
        if (SkipRequested())
        {
            return;
        }

        var result = ExternalTool.Promtool.Run("test", "rules", UnitTests);

        Assert.True(result.ExitCode == 0, result.Describe($"promtool test rules {UnitTests}"));
    }

    [Fact]
    public void PromtoolUnitTests_EveryAlert_HasAFiringCaseAndASilentCase()
    {
        var tests = YamlNavigation.LoadDocuments(RepositoryRoot.ReadText(UnitTests)).Single();
        var ruleFiles = tests.Items("rule_files").Select(file => file.Text()).ToList();
        var cases = tests.Items("tests").ToList();

        Assert.Equal(["../rules/gateway-alerts.yml"], ruleFiles);
        foreach (var alert in AlertRuleTests.ExpectedSeverities.Keys)
        {
            var checks = cases.Select(test => test.Items("alert_rule_test").Where(check => check.Text("alertname") == alert).ToList()).ToList();

            Assert.True(
                checks.Any(list => list.Any(check => check.Items("exp_alerts").Count > 0)),
                $"No promtool case expects {alert} to fire");
            Assert.True(
                checks.Any(list => list.Count > 0 && list.All(check => check.Items("exp_alerts").Count == 0)),
                $"No promtool case expects {alert} to stay silent");
        }
    }

    private bool SkipRequested()
    {
        if (ExternalTool.Promtool.Locate() is not null)
        {
            return false;
        }

        if (Environment.GetEnvironmentVariable("GATEWAY_SKIP_PROMTOOL") == "1")
        {
            output.WriteLine("promtool is not on PATH and GATEWAY_SKIP_PROMTOOL=1: skipped.");
            return true;
        }

        throw new Xunit.Sdk.XunitException(
            "promtool is not on PATH. Install Debian's `prometheus` package (apt-get install prometheus), "
            + "or set GATEWAY_SKIP_PROMTOOL=1 to skip the promtool checks deliberately.");
    }
}
