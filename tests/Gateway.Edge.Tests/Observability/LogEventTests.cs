using System.Reflection;
using Gateway.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Edge.Tests.Observability;

/// <summary>
/// Every <c>[LoggerMessage]</c> of the gateway's assemblies (and every static <see cref="EventId"/> field, which a message
/// logged without one, such as the access line, uses) has an id of its own, taken from <see cref="LogEvents"/>.
/// </summary>
public sealed class LogEventTests
{
    private static readonly Assembly[] GatewayAssemblies = [typeof(EdgeExtensions).Assembly, typeof(GatewayDefaultsExtensions).Assembly, typeof(LogEvents).Assembly];

    [Fact]
    public void LoggerMessages_AllGatewayAssemblies_HaveDistinctEventIds()
    {
        var messages = LoggerMessages();

        var duplicates = messages.GroupBy(m => m.EventId).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Method))}").ToList();
        Assert.True(duplicates.Count == 0, "Event ids used more than once: " + string.Join("; ", duplicates));
    }

    [Fact]
    public void LoggerMessages_AllGatewayAssemblies_UseEveryLogEventsIdExactlyOnce()
    {
        var declared = typeof(LogEvents).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .ToDictionary(f => f.Name, f => (int)f.GetRawConstantValue()!);

        var used = LoggerMessages().Select(m => m.EventId).Order().ToList();

        Assert.Equal(declared.Values.Order().ToList(), used);
        Assert.Equal(declared.Count, declared.Values.Distinct().Count());
    }

    private static List<(int EventId, string Method)> LoggerMessages() =>
        [.. GatewayAssemblies
            .SelectMany(assembly => assembly.GetTypes())
            .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Select(method => (Method: method, Attribute: method.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(m => m.Attribute is not null)
            .Select(m => (m.Attribute!.EventId, $"{m.Method.DeclaringType!.FullName}.{m.Method.Name}"))
            .Concat(GatewayAssemblies
                .SelectMany(assembly => assembly.GetTypes())
                .SelectMany(type => type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly))
                .Where(field => field.FieldType == typeof(EventId) && field.IsInitOnly)
                .Select(field => (((EventId)field.GetValue(null)!).Id, $"{field.DeclaringType!.FullName}.{field.Name}")))];
}
