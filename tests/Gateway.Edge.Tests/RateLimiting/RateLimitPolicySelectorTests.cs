using System.Collections.Immutable;
using Gateway.Edge.RateLimiting;
using Gateway.Hosting.Configuration;

namespace Gateway.Edge.Tests.RateLimiting;

public sealed class RateLimitPolicySelectorTests
{
    private static readonly RateLimitPolicy Default = new(100, TimeSpan.FromSeconds(60), 100);
    private static readonly RateLimitPolicy Pro = new(1000, TimeSpan.FromSeconds(60), 1000);
    private static readonly RateLimitPolicy Own = new(10, TimeSpan.FromSeconds(1), 5);

    private static readonly RateLimitConfig Config = new(
        Default,
        ImmutableDictionary<string, RateLimitPolicy>.Empty.Add("pro", Pro),
        RateLimitMode.Exact,
        BackendFailureMode.Open);

    [Fact]
    public void Select_RouteOwnPolicy_WinsOverTierAndIsNamedByRoute()
    {
        var selected = RateLimitPolicySelector.Select(Route(new RouteRateLimit(RouteRateLimitKind.Own, Own)), "pro", Config);

        Assert.Equal(new SelectedPolicy("users", Own), selected);
    }

    [Fact]
    public void Select_InheritWithKnownTier_UsesTier()
    {
        Assert.Equal(new SelectedPolicy("pro", Pro), RateLimitPolicySelector.Select(Route(RouteRateLimit.Inherit), "pro", Config));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("unknown-tier")]
    public void Select_InheritWithoutKnownTier_UsesDefault(string? tier)
    {
        Assert.Equal(new SelectedPolicy("default", Default), RateLimitPolicySelector.Select(Route(RouteRateLimit.Inherit), tier, Config));
    }

    [Fact]
    public void Select_Off_ReturnsNull()
    {
        Assert.Null(RateLimitPolicySelector.Select(Route(RouteRateLimit.Off), "pro", Config));
    }

    private static RouteDefinition Route(RouteRateLimit limit) => new("users", "/api/users/{**rest}", [], "user-service", AuthMode.None, limit);
}
