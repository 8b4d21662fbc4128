using System.Globalization;

namespace Dstar.Core.Specs;

/// <summary>
/// Typed, validated access to a spec's parameters. A factory reads every parameter it knows (with its default);
/// <see cref="EnsureAllUsed"/> then rejects any parameter nobody read, listing the valid ones.
/// </summary>
public sealed class SpecArguments
{
    private readonly Spec _spec;
    private readonly List<string> _known = new();

    /// <summary>Wraps a parsed spec; <paramref name="files"/> reads the files it names, when the host gives a reader.</summary>
    public SpecArguments(Spec spec, ISpecFiles? files = null)
    {
        _spec = spec;
        Files = files;
    }

    /// <summary>The host's file reader for parameters that name a file, or null when none was given.</summary>
    public ISpecFiles? Files { get; }

    /// <summary>The component name.</summary>
    public string Name => _spec.Name;

    /// <summary>True when the parameter was given.</summary>
    public bool Has(string key)
    {
        Remember(key);
        return _spec.Parameters.ContainsKey(key);
    }

    /// <summary>An integer parameter within [min, max].</summary>
    public int Int(string key, int defaultValue, int min = int.MinValue, int max = int.MaxValue)
    {
        var raw = Raw(key);
        if (raw is null)
        {
            return defaultValue;
        }

        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            throw Fail(key, raw, "an integer");
        }

        return InRange(key, raw, value, min, max);
    }

    /// <summary>An optional integer parameter within [min, max]; null when absent.</summary>
    public int? OptionalInt(string key, int min = int.MinValue, int max = int.MaxValue) =>
        Raw(key) is null ? null : Int(key, 0, min, max);

    /// <summary>A finite real parameter within [min, max].</summary>
    public double Double(string key, double defaultValue, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        var raw = Raw(key);
        if (raw is null)
        {
            return defaultValue;
        }

        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            throw Fail(key, raw, "a finite number");
        }

        return InRange(key, raw, value, min, max);
    }

    /// <summary>A boolean parameter: true/false, yes/no, 1/0.</summary>
    public bool Bool(string key, bool defaultValue)
    {
        var raw = Raw(key);
        return raw?.ToLowerInvariant() switch
        {
            null => defaultValue,
            "true" or "yes" or "1" => true,
            "false" or "no" or "0" => false,
            _ => throw Fail(key, raw, "true or false"),
        };
    }

    /// <summary>One of a fixed set of words.</summary>
    public string Choice(string key, string defaultValue, params string[] allowed)
    {
        var raw = Raw(key);
        if (raw is null)
        {
            return defaultValue;
        }

        var lowered = raw.ToLowerInvariant();
        if (!allowed.Contains(lowered))
        {
            throw Fail(key, raw, "one of " + string.Join(", ", allowed));
        }

        return lowered;
    }

    /// <summary>A free text parameter (for example a file path); null when absent and no default.</summary>
    public string? Text(string key, string? defaultValue = null) => Raw(key) ?? defaultValue;

    /// <summary>Throws when a parameter was given that no read asked for.</summary>
    /// <exception cref="SpecException">an unknown parameter, with the list of valid ones.</exception>
    public void EnsureAllUsed()
    {
        foreach (var key in _spec.Parameters.Keys)
        {
            if (!_known.Contains(key))
            {
                var valid = _known.Count == 0 ? "it takes no parameters" : "valid: " + string.Join(", ", _known);
                throw new SpecException($"'{_spec.Name}' has no parameter '{key}' ({valid})");
            }
        }
    }

    /// <summary>An error naming this component, the parameter and why.</summary>
    public SpecException Fail(string key, string value, string expected) =>
        new($"'{_spec.Name}': parameter {key}={value} is invalid: expected {expected}");

    private string? Raw(string key)
    {
        Remember(key);
        return _spec.Parameters.TryGetValue(key, out var v) ? v : null;
    }

    private void Remember(string key)
    {
        if (!_known.Contains(key))
        {
            _known.Add(key);
        }
    }

    private T InRange<T>(string key, string raw, T value, T min, T max) where T : IComparable<T>
    {
        if (value.CompareTo(min) < 0 || value.CompareTo(max) > 0)
        {
            // min: double.Epsilon is how a catalog asks for a positive value: say "> 0", not "≥ 5E-324".
            var range = (min, max) switch
            {
                _ when min is double e && e == double.Epsilon && IsUnbounded(max) => "a value > 0",
                _ when min is double e && e == double.Epsilon => $"a value in (0, {max}]",
                _ when IsUnbounded(max) => $"a value ≥ {min}",
                _ when IsUnbounded(min) => $"a value ≤ {max}",
                _ => $"a value in [{min}, {max}]",
            };
            throw Fail(key, raw, range);
        }

        return value;
    }

    private static bool IsUnbounded<T>(T v) =>
        v is int i ? i is int.MaxValue or int.MinValue : v is double d && double.IsInfinity(d);
}
