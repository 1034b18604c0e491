using System.Text.Json;
using StackExchange.Redis;

namespace Gateway.Cluster.Tests.Clustering;

/// <summary>Reads the Orleans membership table that <c>Microsoft.Orleans.Clustering.Redis</c> keeps in one Redis hash.</summary>
internal static class MembershipTable
{
    private static readonly string[] StatusNames = ["None", "Created", "Joining", "Active", "ShuttingDown", "Stopping", "Dead"];

    /// <summary>Silo status by silo port.</summary>
    public static async Task<Dictionary<int, string>> ReadAsync(RedisServer redis, string serviceId, string clusterId)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var entries = await connection.GetDatabase().HashGetAllAsync($"{serviceId}/members/{clusterId}");
        var result = new Dictionary<int, string>();
        foreach (var entry in entries.Where(e => e.Name != "Version"))
        {
            using var json = JsonDocument.Parse(entry.Value.ToString());
            var root = json.RootElement;
            var status = root.GetProperty("Status");
            var name = status.ValueKind == JsonValueKind.Number ? StatusNames[status.GetInt32()] : status.GetString()!;
            // "127.0.0.1:11111@154695719"
            var address = root.GetProperty("SiloAddress").GetProperty("SiloAddress").GetString()!;
            var port = int.Parse(address.Split('@')[0].Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture);
            result[port] = name;
        }

        return result;
    }
}
