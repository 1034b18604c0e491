using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;

namespace Gateway.Hosting.Observability;

/// <summary>
/// Orleans' own meter (<c>Microsoft.Orleans</c>) as a silo exports it, a silo process or an embedded edge: every series
/// passes <c>promtool check metrics</c>. Orleans gives its instruments no description, so each gets help text (its own
/// below, else a generic line naming the instrument); instruments in units that are not Prometheus base units
/// (milliseconds, megabytes) are dropped, since a view can rename an instrument but cannot rescale its values. What the
/// dashboard and the runbook read (<c>orleans_grains</c>, <c>orleans_catalog_activations</c>) is kept. A clustered
/// edge is only an Orleans client and exports none of this.
/// </summary>
public static class OrleansMetrics
{
    public const string MeterName = "Microsoft.Orleans";

    private static readonly Dictionary<string, string> Descriptions = new(StringComparer.Ordinal)
    {
        ["orleans-grains"] = "Grain activations on this silo, by grain type.",
        ["orleans-catalog-activations"] = "Activations in this silo's catalog, by grain type.",
        ["orleans-catalog-activation-working-set"] = "Activations recently used (the catalog's working set).",
        ["orleans-catalog-activation-created"] = "Activations created on this silo.",
        ["orleans-catalog-activation-destroyed"] = "Activations destroyed on this silo.",
        ["orleans-catalog-activation-shutdown"] = "Activations deactivated on this silo, by reason.",
        ["orleans-catalog-activation-collections"] = "Idle activation collection passes.",
        ["orleans-system-targets"] = "System targets hosted by this silo.",
        ["orleans-directory-cache-size"] = "Entries in this silo's grain directory cache.",
        ["orleans-directory-partition-size"] = "Entries in this silo's partition of the grain directory.",
        ["orleans-directory-registrations"] = "Grain directory registrations.",
        ["orleans-directory-lookups-cache-issued"] = "Grain directory lookups answered from or attempted on the cache.",
        ["orleans-directory-lookups-cache-successes"] = "Grain directory lookups answered from the cache.",
        ["orleans-directory-ring-size"] = "Silos in the grain directory's ring.",
        ["orleans-consistent-ring-size"] = "Silos in the consistent ring.",
        ["orleans-messaging-sent-local"] = "Messages sent to grains on the same silo.",
        ["orleans-scheduler-long-running-turns"] = "Grain turns that ran longer than Orleans' warning threshold.",
        ["orleans-watchdog-health-checks"] = "Health checks run by the silo's watchdog.",
    };

    /// <summary>Multiples and fractions of a base unit in a name (<c>milliseconds</c>, <c>megabytes</c>): promtool rejects them.</summary>
    private static readonly string[] ScaledUnitPrefixes = ["pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo", "kibi", "mega", "mebi", "giga", "gibi", "tera", "tebi", "peta", "pebi"];

    /// <summary>Exports Orleans' meter with help text on every series and without instruments in scaled units.</summary>
    public static MeterProviderBuilder AddOrleansMeter(this MeterProviderBuilder metrics) =>
        metrics.AddMeter(MeterName).AddView(View);

    /// <summary>The view for one instrument: <see langword="null"/> for other meters, else a description or a drop.</summary>
    internal static MetricStreamConfiguration? View(Instrument instrument)
    {
        if (instrument.Meter.Name != MeterName)
        {
            return null;
        }

        if (InScaledUnit(instrument))
        {
            return MetricStreamConfiguration.Drop;
        }

        if (!string.IsNullOrEmpty(instrument.Description))
        {
            return null;
        }

        return new MetricStreamConfiguration
        {
            Description = Descriptions.TryGetValue(instrument.Name, out var description) ? description : $"Orleans' {instrument.Name} (its runtime gives no description).",
        };
    }

    private static bool InScaledUnit(Instrument instrument)
    {
        // Base units, counts and annotations only: seconds, bytes, ratios, "{calls}" and the like.
        var unit = instrument.Unit;
        if (!string.IsNullOrEmpty(unit) && unit is not ("s" or "By" or "1") && !(unit.StartsWith('{') && unit.EndsWith('}')))
        {
            return true;
        }

        return instrument.Name.Split('-', '.', '_').Any(word => ScaledUnitPrefixes.Any(prefix => word.StartsWith(prefix, StringComparison.Ordinal) && word.Length > prefix.Length && (word.EndsWith("seconds", StringComparison.Ordinal) || word.EndsWith("bytes", StringComparison.Ordinal))));
    }
}
