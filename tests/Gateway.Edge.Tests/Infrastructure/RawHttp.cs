using System.Net.Sockets;
using System.Text;

namespace Gateway.Edge.Tests.Infrastructure;

/// <summary>
/// Sends a request as raw HTTP/1.1 bytes, for what HttpClient would rewrite (several header lines of one name are
/// joined by HttpClient; here each stays its own line).
/// </summary>
internal static class RawHttp
{
    /// <summary>Sends <c>GET <paramref name="path"/></c> with <paramref name="headers"/> in that order; returns the status code.</summary>
    public static async Task<int> GetAsync(Uri baseAddress, string path, params (string Name, string Value)[] headers)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(baseAddress.Host, baseAddress.Port);
        var request = new StringBuilder()
            .Append("GET ").Append(path).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(baseAddress.Authority).Append("\r\n")
            .Append("Connection: close\r\n");
        foreach (var (name, value) in headers)
        {
            request.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        request.Append("\r\n");
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var statusLine = await reader.ReadLineAsync() ?? string.Empty;
        await reader.ReadToEndAsync();
        var parts = statusLine.Split(' ');
        return parts.Length > 1 && int.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var status) ? status : 0;
    }
}
