using System.Globalization;

namespace Gateway.Faults;

/// <summary>One row of docs/reliability.md: what was done, under which load, what broke, the figures, and whether the must-hold held.</summary>
public sealed record ScenarioResult(string Scenario, string Load, string WhatBroke, string Figures, string MustHold, bool Holds);

/// <summary>Figures over the outcomes of one window of the load.</summary>
public sealed class Window(IEnumerable<Outcome> outcomes, double from, double to)
{
    private readonly List<Outcome> _outcomes = outcomes.Where(o => o.Started >= from && o.Started < to).ToList();

    public int Sent => _outcomes.Count;

    public List<Outcome> Failures => _outcomes.Where(o => o.Failed).ToList();

    /// <summary>Seconds from <paramref name="fault"/> to the end of the last failed request (0 when none failed).</summary>
    public double ErrorsEndAfter(double fault) => Failures.Count == 0 ? 0 : Math.Max(0, Failures.Max(o => o.Ended) - fault);

    public double P99(Func<Outcome, bool>? filter = null) => Percentile(_outcomes.Where(o => !o.Failed && (filter?.Invoke(o) ?? true)).Select(o => o.LatencyMs).ToList(), 0.99);

    /// <summary>How the failures looked: count by status or error.</summary>
    public string FailureKinds() => Failures.Count == 0
        ? "none"
        : string.Join(", ", Failures.GroupBy(o => $"{o.Error ?? o.Status.ToString(CultureInfo.InvariantCulture)} on {o.Path}").Select(g => $"{g.Count()}× {g.Key}"));

    public static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        values.Sort();
        return values[Math.Min(values.Count - 1, (int)Math.Ceiling(p * values.Count) - 1)];
    }
}

internal static class Text
{
    public static string F(double value, string format = "0.0") => value.ToString(format, CultureInfo.InvariantCulture);
}
