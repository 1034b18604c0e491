using System.Globalization;

namespace Gateway.Hosting.Configuration;

/// <summary>Parses durations written as <c>500ms</c>, <c>10s</c>, <c>5m</c>, <c>1h</c> or bare seconds (<c>1800</c>, <c>0.5</c>).</summary>
public static class DurationParser
{
    public const string Expected = "a duration such as 500ms, 10s, 5m, 1h or bare seconds";

    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var trimmed = text.Trim();
        var (number, unitTicks) = trimmed switch
        {
            _ when trimmed.EndsWith("ms", StringComparison.Ordinal) => (trimmed[..^2], TimeSpan.TicksPerMillisecond),
            _ when trimmed.EndsWith('s') => (trimmed[..^1], TimeSpan.TicksPerSecond),
            _ when trimmed.EndsWith('m') => (trimmed[..^1], TimeSpan.TicksPerMinute),
            _ when trimmed.EndsWith('h') => (trimmed[..^1], TimeSpan.TicksPerHour),
            _ => (trimmed, TimeSpan.TicksPerSecond),
        };

        if (!decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        // Compare before multiplying: a huge number times the unit overflows decimal itself.
        if (value > TimeSpan.MaxValue.Ticks / unitTicks)
        {
            return false;
        }

        duration = TimeSpan.FromTicks((long)(value * unitTicks));
        return true;
    }
}
