using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Xunit.Abstractions;

namespace Gateway.Cluster.Tests.Observability;

/// <summary>
/// The Orleans Dashboard that each silo serves at <c>/dashboard</c>: closed to anonymous callers outside embedded
/// mode, and, opened in headless Chromium with the ADMIN_TOKEN, showing the cluster's silos and the gateway's grains.
/// Needs Debian's <c>chromium</c> package; without it the browser test fails naming the package.
/// </summary>
[Collection(ObservedCluster.Collection)]
public sealed class DashboardTests(ObservedCluster fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan RenderTimeout = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task Dashboard_Anonymous_Answers401WithBasicChallenge()
    {
        var silo = fixture.Cluster.Silos[0];

        using var response = await silo.Client.GetAsync(new Uri("/dashboard/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(response.Headers.WwwAuthenticate, challenge => challenge.Scheme == "Basic");
        Assert.DoesNotContain("Orleans Dashboard", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dashboard_WrongToken_Answers401()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/dashboard/", UriKind.Relative));
        request.Headers.Authorization = BasicAuth("not-the-token");

        using var response = await fixture.Cluster.Silos[0].Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Dashboard_InHeadlessChromiumWithAdminToken_ShowsBothSilosAndGatewayGrainTypes()
    {
        // Make sure the gateway's probe grain has been activated, so the dashboard has a grain of ours to list.
        await fixture.Edge.WaitReadyAsync(TimeSpan.FromSeconds(30));
        var silo = fixture.Cluster.Silos[0];
        var siloAddresses = fixture.Cluster.Silos.Select(s => "127.0.0.1:" + s.SiloPort.ToString(CultureInfo.InvariantCulture)).ToList();
        var dashboard = new Uri(silo.Client.BaseAddress!, "/dashboard/");

        await using var browser = await HeadlessChromium.StartAsync();
        await browser.SetExtraHeadersAsync(new Dictionary<string, string> { ["Authorization"] = BasicAuth(ObservedCluster.AdminToken).ToString() });

        await browser.NavigateAsync(new Uri(dashboard, "#/silos"));
        var silosText = await browser.WaitForTextAsync(text => siloAddresses.All(a => text.Contains(a, StringComparison.Ordinal)), RenderTimeout);
        await SaveScreenshotAsync(browser, "dashboard-silos.png");

        await browser.NavigateAsync(new Uri(dashboard, "#/grains"));
        var grainsText = await browser.WaitForTextAsync(text => text.Contains("ClusterProbeGrain", StringComparison.Ordinal), RenderTimeout);
        await SaveScreenshotAsync(browser, "dashboard-grains.png");

        Assert.All(siloAddresses, address => Assert.Contains(address, silosText, StringComparison.Ordinal));
        Assert.Contains("ClusterProbeGrain", grainsText, StringComparison.Ordinal);
        Assert.DoesNotContain("ADMIN_TOKEN", silosText + grainsText, StringComparison.Ordinal);
    }

    private static AuthenticationHeaderValue BasicAuth(string token) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + token)));

    /// <summary>Keeps the screenshot next to the test binaries (for a person to look at) and checks it is a PNG.</summary>
    private async Task SaveScreenshotAsync(HeadlessChromium browser, string name)
    {
        var png = await browser.ScreenshotAsync();
        Assert.True(png.Length > 8 && png[0] == 0x89 && png[1] == (byte)'P' && png[2] == (byte)'N' && png[3] == (byte)'G', "the screenshot is not a PNG");
        var path = Path.Combine(AppContext.BaseDirectory, name);
        await File.WriteAllBytesAsync(path, png);
        output.WriteLine($"screenshot: {path}");
    }
}
