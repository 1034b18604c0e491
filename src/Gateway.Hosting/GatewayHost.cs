using Gateway.Hosting.Configuration;
using Microsoft.AspNetCore.Builder;

namespace Gateway.Hosting;

/// <summary>Runs a gateway process and turns start-up configuration errors into one line each and exit code 2.</summary>
public static class GatewayHost
{
    public const int ConfigurationErrorExitCode = 2;

    public static async Task<int> RunAsync(Func<WebApplication> build)
    {
        WebApplication app;
        try
        {
            app = build();
        }
        catch (GatewayConfigurationException ex)
        {
            await ReportAsync(ex);
            return ConfigurationErrorExitCode;
        }

        try
        {
            await app.RunAsync();
            return 0;
        }
        catch (GatewayConfigurationException ex)
        {
            await ReportAsync(ex);
            return ConfigurationErrorExitCode;
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    private static async Task ReportAsync(GatewayConfigurationException ex)
    {
        foreach (var error in ex.Errors)
        {
            await Console.Error.WriteLineAsync($"configuration error: {ex.ConfigSource}: {error}");
        }
    }
}
