using System.Net;
using Gateway.Hosting.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Hosting.Tests.Http;

public sealed class AdminAttemptLimiterTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-27T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly AdminAttemptLimiter _limiter;

    public AdminAttemptLimiterTests() => _limiter = new AdminAttemptLimiter(_time, AdminAttemptLimiter.TcpPeer, NullLogger<AdminAttemptLimiter>.Instance);

    [Fact]
    public void RetryAfter_FewerFailuresThanTheLimit_IsNull()
    {
        Fail("203.0.113.1", AdminAttemptLimiter.MaxFailures - 1);

        Assert.Null(RetryAfter(Client("203.0.113.1")));
    }

    [Fact]
    public void RetryAfter_LimitReached_BlocksUntilTheOldestFailureLeavesTheWindow()
    {
        Fail("203.0.113.2", 1);
        _time.Advance(TimeSpan.FromSeconds(20));
        Fail("203.0.113.2", AdminAttemptLimiter.MaxFailures - 1);

        Assert.Equal(TimeSpan.FromSeconds(40), RetryAfter(Client("203.0.113.2")));
        _time.Advance(TimeSpan.FromSeconds(39));
        Assert.Equal(TimeSpan.FromSeconds(1), RetryAfter(Client("203.0.113.2")));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(RetryAfter(Client("203.0.113.2")));

        // The window slides: one more failure within a minute of the other nine (at 20s) blocks again, until they are a minute old.
        Fail("203.0.113.2", 1);
        Assert.Equal(TimeSpan.FromSeconds(20), RetryAfter(Client("203.0.113.2")));
    }

    [Fact]
    public void Attempt_WhileBlocked_RefusesWithoutCountingSoTheWindowDoesNotGrow()
    {
        Fail("203.0.113.5", AdminAttemptLimiter.MaxFailures);
        _time.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(TimeSpan.FromSeconds(30), _limiter.Attempt(Client("203.0.113.5"), authorized: false));
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(RetryAfter(Client("203.0.113.5")));
    }

    [Fact]
    public void RetryAfter_OtherAddress_IsNotBlocked()
    {
        Fail("203.0.113.3", AdminAttemptLimiter.MaxFailures);

        Assert.NotNull(RetryAfter(Client("203.0.113.3")));
        Assert.Null(RetryAfter(Client("203.0.113.4")));
    }

    [Fact]
    public void RetryAfter_Ipv6_CountsPer64()
    {
        Fail("2001:db8:1:2::1", AdminAttemptLimiter.MaxFailures / 2);
        Fail("2001:db8:1:2:ffff::7", AdminAttemptLimiter.MaxFailures - (AdminAttemptLimiter.MaxFailures / 2));

        Assert.NotNull(RetryAfter(Client("2001:db8:1:2::99")));
        Assert.Null(RetryAfter(Client("2001:db8:1:3::1")));
    }

    [Fact]
    public void RecordFailure_TableFull_EvictsRatherThanGrows()
    {
        for (var i = 0; i < AdminAttemptLimiter.MaxClients + 50; i++)
        {
            Fail(new IPAddress(0x0A000000u + (uint)i).ToString(), 1);
        }

        Assert.Equal(AdminAttemptLimiter.MaxClients, _limiter.Count);

        // A blocked address being evicted would need an attacker to fill the table within its window; a fresh one still counts.
        Fail("198.51.100.1", AdminAttemptLimiter.MaxFailures);
        Assert.NotNull(RetryAfter(Client("198.51.100.1")));
        Assert.Equal(AdminAttemptLimiter.MaxClients, _limiter.Count);
    }

    private void Fail(string address, int times)
    {
        for (var i = 0; i < times; i++)
        {
            Assert.Null(_limiter.Attempt(Client(address), authorized: false));
        }
    }

    /// <summary>What an attempt with the right token would be told; such an attempt is never counted.</summary>
    private TimeSpan? RetryAfter(HttpContext context) => _limiter.Attempt(context, authorized: true);

    private static DefaultHttpContext Client(string address)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(address);
        return context;
    }
}
