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
    public void Redis_Password_ComesFromTheGatewaySecret(string overlay)
    {
        var redis = StatefulSetTests.Container(RenderedManifests.Of(overlay).Get("StatefulSet", "redis"), "redis");
        var args = redis.Items("args").Select(a => a.Text()).ToList();

        Assert.Equal("$(REDIS_PASSWORD)", args[args.IndexOf("--requirepass") + 1]);
        foreach (var name in new[] { "REDIS_PASSWORD", "REDISCLI_AUTH" })
        {
            var reference = StatefulSetTests.Env(redis, name).At("valueFrom", "secretKeyRef");
            Assert.Equal("api-gateway-secrets", reference.Text("name"));
            Assert.Equal("REDIS_PASSWORD", reference.Text("key"));
        }
    }
}
