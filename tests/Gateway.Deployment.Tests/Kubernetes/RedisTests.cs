using Gateway.Deployment.Tests.Infrastructure;

namespace Gateway.Deployment.Tests.Kubernetes;

/// <summary>Redis as the runbook knows it: <c>redis-service:6379</c>, pods labelled <c>app=redis</c>, persistent AOF.</summary>
public sealed class RedisTests
{
    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void Redis_Service_IsRedisServiceOnPort6379(string overlay)
    {
        var manifests = RenderedManifests.Of(overlay);
        var service = manifests.Get("Service", "redis-service");
        var port = Assert.Single(service.Items("spec", "ports"));
        var redis = StatefulSetTests.Container(manifests.Get("StatefulSet", "redis"), "redis");

        Assert.Equal("redis", service.Text("spec", "selector", "app"));
        Assert.Equal("6379", port.Text("port"));
        Assert.Equal("6379", redis.Items("ports").Named(port.Text("targetPort")!).Text("containerPort"));
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void Redis_StatefulSet_PersistsAppendOnlyFileOnAClaim(string overlay)
    {
        var statefulSet = RenderedManifests.Of(overlay).Get("StatefulSet", "redis");
        var redis = StatefulSetTests.Container(statefulSet, "redis");
        var args = redis.Items("args").Select(a => a.Text()).ToList();
        var claim = Assert.Single(statefulSet.Items("spec", "volumeClaimTemplates"));

        Assert.Equal("redis", statefulSet.Text("spec", "template", "metadata", "labels", "app"));
        Assert.Equal("yes", args[args.IndexOf("--appendonly") + 1]);
        Assert.Equal("/data", args[args.IndexOf("--dir") + 1]);
        Assert.Contains(redis.Items("volumeMounts"), mount => mount.Text("mountPath") == "/data" && mount.Text("name") == claim.Text("metadata", "name"));
        Assert.NotNull(claim.Text("spec", "resources", "requests", "storage"));
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void Redis_Password_ComesFromTheGatewaySecretThroughAnAclFileNeverAnArgument(string overlay)
    {
        var statefulSet = RenderedManifests.Of(overlay).Get("StatefulSet", "redis");
        var redis = StatefulSetTests.Container(statefulSet, "redis");
        var args = redis.Items("args").Texts();
        var acl = Assert.Single(statefulSet.Items("spec", "template", "spec", "initContainers"));
        var aclFile = args[Array.IndexOf(args, "--aclfile") + 1];
        var aclVolume = redis.Items("volumeMounts").Single(mount => aclFile.StartsWith(mount.Text("mountPath") + "/", StringComparison.Ordinal)).Text("name");

        // No argument of any container names the password or its variable: /proc/<pid>/cmdline is world-readable.
        foreach (var container in StatefulSetTests.Containers(statefulSet).Append(acl))
        {
            Assert.DoesNotContain(container.Items("args").Concat(container.Items("command")).Texts(), arg => arg.Contains("PASSWORD", StringComparison.Ordinal) && !arg.Contains("\"$REDIS_PASSWORD\"", StringComparison.Ordinal));
        }

        Assert.DoesNotContain("--requirepass", args);
        Assert.Contains(aclFile, string.Join('\n', acl.Items("command").Texts()), StringComparison.Ordinal);
        Assert.Contains("sha256sum", string.Join('\n', acl.Items("command").Texts()), StringComparison.Ordinal);
        Assert.Contains(acl.Items("volumeMounts"), mount => mount.Text("name") == aclVolume);
        Assert.Equal("Memory", statefulSet.Items("spec", "template", "spec", "volumes").Named(aclVolume!).Text("emptyDir", "medium"));
        foreach (var (container, name) in new[] { (acl, "REDIS_PASSWORD"), (redis, "REDISCLI_AUTH"), (StatefulSetTests.Container(statefulSet, "redis-exporter"), "REDIS_PASSWORD") })
        {
            var reference = StatefulSetTests.Env(container, name).At("valueFrom", "secretKeyRef");
            Assert.Equal("api-gateway-secrets", reference.Text("name"));
            Assert.Equal("REDIS_PASSWORD", reference.Text("key"));
        }
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void Redis_MaxMemory_IsAbout70PercentOfTheContainerLimitWithNoEviction(string overlay)
    {
        var redis = StatefulSetTests.Container(RenderedManifests.Of(overlay).Get("StatefulSet", "redis"), "redis");
        var args = redis.Items("args").Texts();
        var maxMemory = args[Array.IndexOf(args, "--maxmemory") + 1];
        if (maxMemory.StartsWith("$(", StringComparison.Ordinal))
        {
            maxMemory = StatefulSetTests.Env(redis, maxMemory[2..^1]).Text("value")!;
        }

        var limit = OverlayTests.Quantity(redis.Text("resources", "limits", "memory"));
        var ratio = RedisBytes(maxMemory) / limit;

        Assert.Equal("noeviction", args[Array.IndexOf(args, "--maxmemory-policy") + 1]);
        Assert.InRange(ratio, 0.65, 0.75);
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void Redis_Volume_ChangesOwnershipOnlyOnRootMismatch(string overlay)
    {
        var pod = RenderedManifests.Of(overlay).Get("StatefulSet", "redis").At("spec", "template", "spec");

        Assert.Equal("OnRootMismatch", pod.Text("securityContext", "fsGroupChangePolicy"));
        Assert.Equal("999", pod.Text("securityContext", "fsGroup"));
    }

    [Theory]
    [MemberData(nameof(RenderedManifests.Overlays), MemberType = typeof(RenderedManifests))]
    public void Redis_Exporter_IsAPinnedSidecarScrapedAsJobRedisMetrics(string overlay)
    {
        var manifests = RenderedManifests.Of(overlay);
        var exporter = StatefulSetTests.Container(manifests.Get("StatefulSet", "redis"), "redis-exporter");
        var service = manifests.Get("Service", "redis-metrics");
        var monitor = manifests.Get("ServiceMonitor", "redis");
        var endpoint = Assert.Single(monitor.Items("spec", "endpoints"));
        var selector = monitor.At("spec", "selector", "matchLabels").StringMap();

        Assert.Matches(@"^oliver006/redis_exporter:v\d+\.\d+\.\d+$", exporter.Text("image"));
        Assert.Equal("redis://127.0.0.1:6379", StatefulSetTests.Env(exporter, "REDIS_ADDR").Text("value"));
        Assert.Equal("9121", exporter.Items("ports").Named("metrics")!.Text("containerPort"));
        Assert.Equal("metrics", Assert.Single(service.Items("spec", "ports")).Text("targetPort"));
        Assert.All(selector, label => Assert.Equal(label.Value, service.Text("metadata", "labels", label.Key)));
        Assert.NotEqual(selector.Count, selector.Count(label => manifests.Get("Service", "redis-service").Text("metadata", "labels", label.Key) == label.Value));
        Assert.Equal("metrics", endpoint.Text("port"));
        Assert.Equal("true", exporter.Text("securityContext", "readOnlyRootFilesystem"));
        Assert.Equal(["ALL"], exporter.Items("securityContext", "capabilities", "drop").Texts());
    }

    /// <summary>A Redis memory setting (bytes, or with a k/kb/m/mb/g/gb suffix) in bytes.</summary>
    private static double RedisBytes(string text)
    {
        (string Suffix, double Factor)[] suffixes = [("gb", 1024d * 1024 * 1024), ("mb", 1024d * 1024), ("kb", 1024d), ("g", 1e9), ("m", 1e6), ("k", 1e3)];
        foreach (var (suffix, factor) in suffixes)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return double.Parse(text[..^suffix.Length], System.Globalization.CultureInfo.InvariantCulture) * factor;
            }
        }

        return double.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
    }
}
