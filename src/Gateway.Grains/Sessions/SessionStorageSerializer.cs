using System.Text.Json;
using Orleans.Storage;

namespace Gateway.Grains.Sessions;

/// <summary>
/// Grain state as plain JSON with explicit property names and no .NET type names, so that renaming or moving a
/// state class does not orphan the sessions already stored (the Redis provider's default Newtonsoft JSON embeds
/// type names).
/// </summary>
public sealed class SessionStorageSerializer : IGrainStorageSerializer
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General)
    {
        PropertyNameCaseInsensitive = false,
        WriteIndented = false,
    };

    public BinaryData Serialize<T>(T? input) => BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(input, Options));

    public T? Deserialize<T>(BinaryData input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return JsonSerializer.Deserialize<T>(input.ToMemory().Span, Options);
    }
}
