using System.Text.RegularExpressions;
using Gateway.Deployment.Tests.Infrastructure;
using Gateway.Deployment.Tests.Monitoring;

namespace Gateway.Deployment.Tests.Docs;

/// <summary>
/// <c>docs/runbook.md</c> against what exists: every metric it names is emitted, every alert it names is in the rules
/// file (and every alert has a response there), every Kubernetes object and container its kubectl commands name is
/// rendered by the overlays, and it never talks about a Deployment (the gateway is a StatefulSet).
/// </summary>
public sealed partial class RunbookTests
{
    public const string Runbook = "docs/runbook.md";

    /// <summary>Series of Orleans' own meters that the runbook may name: the silos' (the cluster tests read them from a live silo).</summary>
    public static readonly IReadOnlySet<string> OrleansSeries = MetricCatalog.OrleansSilo;

    /// <summary>The contract's metric table: the runbook must tell operators about each.</summary>
    public static readonly IReadOnlyList<string> ContractMetrics =
    [
        "gateway_requests_total", "gateway_request_duration_seconds", "gateway_auth_failures_total", "gateway_ratelimit_exceeded_total",
        "gateway_upstream_errors_total", "gateway_active_connections", "gateway_redis_operation_duration_seconds",
        "gateway_upstream_duration_seconds", "process_resident_memory_bytes", "process_cpu_seconds_total",
    ];

    private static readonly Dictionary<string, string> Kinds = new(StringComparer.OrdinalIgnoreCase)
    {
        ["statefulset"] = "StatefulSet",
        ["sts"] = "StatefulSet",
        ["configmap"] = "ConfigMap",
        ["cm"] = "ConfigMap",
        ["secret"] = "Secret",
        ["hpa"] = "HorizontalPodAutoscaler",
        ["svc"] = "Service",
        ["service"] = "Service",
        ["ingress"] = "Ingress",
        ["pdb"] = "PodDisruptionBudget",
        ["networkpolicy"] = "NetworkPolicy",
        ["namespace"] = "Namespace",
        ["ns"] = "Namespace",
        ["servicemonitor"] = "ServiceMonitor",
        ["prometheusrule"] = "PrometheusRule",
    };

    private static readonly Lazy<string> Text = new(() => RepositoryRoot.ReadText(Runbook));

    [Fact]
    public void Runbook_MetricNames_AreAllEmitted()
    {
        var known = new HashSet<string>(MetricCatalog.GatewaySeries, StringComparer.Ordinal);
        known.UnionWith(MetricCatalog.GatewaySeries.Where(s => s.EndsWith("_bucket", StringComparison.Ordinal)).Select(s => s[..^"_bucket".Length]));
        known.UnionWith(MetricCatalog.ContractProcessMetrics);
        known.UnionWith(OrleansSeries);

        var named = MetricName().Matches(Text.Value).Select(m => m.Value).Distinct(StringComparer.Ordinal).ToList();

        Assert.NotEmpty(named);
        Assert.All(named, name => Assert.True(known.Contains(name), $"{Runbook} names {name}, which nothing emits"));
        Assert.All(ContractMetrics, name => Assert.Contains(name, named));
    }

    [Fact]
    public void Runbook_AlertNames_AreTheRulesFilesAlertsAndEachHasAResponse()
    {
        var rules = YamlNavigation.LoadDocuments(RepositoryRoot.ReadText(AlertRuleTests.RulesFile)).Single();
        var defined = rules.Items("groups").SelectMany(group => group.Items("rules")).Select(rule => rule.Text("alert")).OfType<string>().ToHashSet(StringComparer.Ordinal);

        var named = AlertName().Matches(Text.Value).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);

        Assert.Equal(AlertRuleTests.ExpectedSeverities.Count, defined.Count);
        Assert.All(named, name => Assert.True(defined.Contains(name), $"{Runbook} names alert {name}, which {AlertRuleTests.RulesFile} does not define"));
        Assert.All(defined, name => Assert.True(Text.Value.Contains($"Alert: `{name}`", StringComparison.Ordinal) || Text.Value.Contains($"`{name}` or", StringComparison.Ordinal) || Text.Value.Contains($"or `{name}`", StringComparison.Ordinal), $"no incident in {Runbook} is triggered by {name}"));
        Assert.All(defined, name => Assert.Matches($@"(?m)^\| {name} \|", Text.Value));
    }

    [Theory]
    [InlineData("apply -f k8s/base")]
    [InlineData("apply -f k8s/redis")]
    [InlineData("apply -k k8s/redis")]
    [InlineData("apply -k k8s/base")]
    [InlineData("startTime")]
    [InlineData("BGSAVE")]
    [InlineData("orleans_app_requests_latency_milliseconds")]
    [InlineData("--requirepass")]
    [InlineData("deployment/api-gateway")]
    [InlineData("deployment api-gateway")]
    [InlineData("deploy/api-gateway")]
    [InlineData("\"name\":\"gateway\"")]
    [InlineData("gateway=")]
    public void Runbook_Commands_NeverNameWhatDoesNotExist(string phrase)
    {
        Assert.DoesNotContain(phrase, Text.Value, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Runbook_FollowedLogs_OfManyPodsRaiseTheLogRequestLimitAndPrefixLines()
    {
        var followed = KubectlCommands().Where(command => command.StartsWith("kubectl logs", StringComparison.Ordinal) && command.Contains(" -l ", StringComparison.Ordinal) && FollowFlag().IsMatch(command)).ToList();

        Assert.NotEmpty(followed);
        Assert.All(followed, command =>
        {
            Assert.Contains("--max-log-requests", command, StringComparison.Ordinal);
            Assert.Contains("--prefix", command, StringComparison.Ordinal);
        });
    }

    [Theory]
    [InlineData("redis-cli --rdb")]
    [InlineData("appendonly.aof.1.base.rdb")]
    [InlineData("ACL SETUSER default")]
    [InlineData("df -h /data")]
    [InlineData("uptime_in_seconds")]
    [InlineData("restartCount")]
    [InlineData("rollout status statefulset/api-gateway")]
    [InlineData("resourceVersion")]
    [InlineData("Run locally:")]
    public void Runbook_Procedures_UseTheCommandsThatWork(string phrase)
    {
        Assert.Contains(phrase, Text.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void Runbook_KubectlCommands_NameTheOverlaysNamespaceOrNone()
    {
        var namespaces = new[] { "k8s/overlays/dev", "k8s/overlays/prod" }.Select(overlay => Assert.Single(RenderedManifests.Of(overlay).OfKind("Namespace")).Text("metadata", "name")).ToHashSet(StringComparer.Ordinal);
        var named = KubectlCommands().SelectMany(command => NamespaceFlag().Matches(command)).Select(match => match.Groups[1].Value).ToList();

        Assert.All(named, name => Assert.Contains(name, namespaces));
    }

    [Fact]
    public void Runbook_KubectlObjects_ExistInTheRenderedOverlays()
    {
        var rendered = new[] { "k8s/overlays/dev", "k8s/overlays/prod" }.Select(RenderedManifests.Of).ToList();
        bool Exists(string kind, string name) => rendered.Any(r => r.Find(kind, name) is not null);

        var references = KubectlCommands().SelectMany(ObjectReferences).Distinct().ToList();

        Assert.Contains(("StatefulSet", "api-gateway"), references);
        Assert.Contains(("ConfigMap", "api-gateway-config"), references);
        Assert.Contains(("Secret", "api-gateway-secrets"), references);
        Assert.Contains(("HorizontalPodAutoscaler", "api-gateway"), references);
        Assert.Contains(("Service", "api-gateway"), references);
        Assert.All(references, reference => Assert.True(Exists(reference.Kind, reference.Name), $"{Runbook} names {reference.Kind} {reference.Name}, which no overlay renders"));
    }

    [Fact]
    public void Runbook_PodNames_ArePodsOfRenderedStatefulSets()
    {
        var rendered = RenderedManifests.Of("k8s/overlays/prod");

        var pods = KubectlCommands().SelectMany(command => PodName().Matches(command)).Select(m => (StatefulSet: m.Groups["sts"].Value, Ordinal: int.Parse(m.Groups["n"].Value, System.Globalization.CultureInfo.InvariantCulture))).Distinct().ToList();

        Assert.Contains(("redis", 0), pods);
        Assert.Contains(("api-gateway", 0), pods);
        Assert.All(pods, pod =>
        {
            var statefulSet = rendered.Find("StatefulSet", pod.StatefulSet);
            Assert.True(statefulSet is not null, $"{Runbook} names pod {pod.StatefulSet}-{pod.Ordinal}, but there is no StatefulSet {pod.StatefulSet}");
            Assert.InRange(pod.Ordinal, 0, GuaranteedPods(rendered, pod.StatefulSet) - 1);
        });
    }

    [Fact]
    public void Runbook_ContainerNames_AreTheStatefulSetsContainers()
    {
        var rendered = RenderedManifests.Of("k8s/overlays/prod");
        var containers = rendered.Get("StatefulSet", "api-gateway").Items("spec", "template", "spec", "containers").Select(c => c.Text("name")).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var commands = KubectlCommands();

        var named = commands.SelectMany(command => ContainerFlag().Matches(command)).Select(m => m.Groups[1].Value)
            .Concat(commands.Where(c => c.Contains("set image", StringComparison.Ordinal)).SelectMany(c => ImageAssignment().Matches(c)).Select(m => m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);

        Assert.Equal(["edge", "silo"], containers.Order(StringComparer.Ordinal));
        Assert.Equal(containers.Order(StringComparer.Ordinal), named.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Runbook_RepositoryPaths_Exist()
    {
        var paths = RepositoryPath().Matches(Text.Value).Select(m => m.Value.TrimEnd('/', '.')).Distinct(StringComparer.Ordinal).ToList();

        Assert.NotEmpty(paths);
        Assert.All(paths, path => Assert.True(File.Exists(RepositoryRoot.Combine(path)) || Directory.Exists(RepositoryRoot.Combine(path)), $"{Runbook} names {path}, which does not exist"));
    }

    /// <summary>Pods a StatefulSet always has: its HPA's floor when an HPA scales it (then it names no replicas), else spec.replicas.</summary>
    private static int GuaranteedPods(RenderedManifests rendered, string statefulSet)
    {
        var hpa = rendered.OfKind("HorizontalPodAutoscaler").SingleOrDefault(h => h.Text("spec", "scaleTargetRef", "kind") == "StatefulSet" && h.Text("spec", "scaleTargetRef", "name") == statefulSet);
        var count = hpa is not null ? hpa.Text("spec", "minReplicas") : rendered.Get("StatefulSet", statefulSet).Text("spec", "replicas") ?? "1";
        return int.Parse(count ?? "1", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Every kubectl command of the runbook's code blocks, continuation lines joined, pipelines split.</summary>
    internal static IReadOnlyList<string> KubectlCommands()
    {
        var commands = new List<string>();
        foreach (Match block in CodeBlock().Matches(Text.Value))
        {
            var joined = block.Groups[1].Value.Replace("\\\n", " ", StringComparison.Ordinal);
            foreach (var line in joined.Split('\n'))
            {
                var code = line.Trim();
                var comment = code.IndexOf(" #", StringComparison.Ordinal);
                code = comment < 0 ? code : code[..comment];
                if (code.StartsWith('#'))
                {
                    continue;
                }

                commands.AddRange(code.Split(["&&", "|", "$("], StringSplitOptions.TrimEntries).Where(part => part.StartsWith("kubectl ", StringComparison.Ordinal)));
            }
        }

        return commands;
    }

    /// <summary>(kind, name) of each <c>kind/name</c> and <c>verb kind name</c> in one kubectl command; placeholders skipped.</summary>
    internal static IEnumerable<(string Kind, string Name)> ObjectReferences(string command)
    {
        var tokens = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 1; i < tokens.Length; i++)
        {
            var slash = tokens[i].Split('/');
            if (slash.Length == 2 && Kinds.TryGetValue(slash[0], out var slashKind) && ObjectName().IsMatch(slash[1]))
            {
                yield return (slashKind, slash[1]);
            }
            else if (Kinds.TryGetValue(tokens[i], out var kind) && !tokens[i - 1].StartsWith('-') && i + 1 < tokens.Length && ObjectName().IsMatch(tokens[i + 1]))
            {
                yield return (kind, tokens[i + 1]);
            }
        }
    }

    [GeneratedRegex(@"\b(?:gateway|process|orleans)_[a-z0-9_]*[a-z0-9]\b")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"\bAPIGateway[A-Za-z]+\b")]
    private static partial Regex AlertName();

    [GeneratedRegex(@"```bash\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CodeBlock();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]*$")]
    private static partial Regex ObjectName();

    [GeneratedRegex(@"(?:^|[\s/])(?<sts>(?:api-gateway|redis))-(?<n>\d+)(?=[\s:]|$)")]
    private static partial Regex PodName();

    [GeneratedRegex(@"(?:^|\s)-c\s+([a-z0-9-]+)")]
    private static partial Regex ContainerFlag();

    [GeneratedRegex(@"\s([a-z0-9-]+)=\S+:\S+")]
    private static partial Regex ImageAssignment();

    [GeneratedRegex(@"(?:^|\s)(?:-f|--follow)(?:\s|$)")]
    private static partial Regex FollowFlag();

    [GeneratedRegex(@"(?:^|\s)(?:-n|--namespace)[\s=]([a-z0-9-]+)")]
    private static partial Regex NamespaceFlag();

    [GeneratedRegex(@"\bk8s/[A-Za-z0-9_./-]+")]
    private static partial Regex RepositoryPath();
}
