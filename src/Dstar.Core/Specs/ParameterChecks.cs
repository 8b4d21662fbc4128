using System.Globalization;

namespace Dstar.Core.Specs;

/// <summary>
/// Range checks shared by the constructors of attacks and delay models. They throw <see cref="ArgumentException"/>
/// with the same wording as <see cref="SpecArguments.Fail"/>, and <see cref="Build{T}"/> turns that into a
/// <see cref="SpecException"/> when the component is built from a spec, so each range is written once.
/// </summary>
internal static class ParameterChecks
{
    public static double Positive(string component, string key, double value) =>
        double.IsFinite(value) && value > 0 ? value : throw Fail(component, key, value, "a finite value > 0");

    public static double NonNegative(string component, string key, double value) =>
        double.IsFinite(value) && value >= 0 ? value : throw Fail(component, key, value, "a finite value ≥ 0");

    public static double Finite(string component, string key, double value) =>
        double.IsFinite(value) ? value : throw Fail(component, key, value, "a finite number");

    public static double InRange(string component, string key, double value, double min, double max) =>
        value >= min && value <= max ? value : throw Fail(component, key, value, $"a value in [{Format(min)}, {Format(max)}]");

    public static int AtLeast(string component, string key, int value, int min) =>
        value >= min ? value : throw Fail(component, key, value, $"an integer ≥ {min}");

    public static ArgumentException Fail(string component, string key, object value, string expected) =>
        new($"'{component}': parameter {key}={Format(value)} is invalid: expected {expected}");

    /// <summary>Runs a constructor, reporting its <see cref="ArgumentException"/> as a <see cref="SpecException"/>.</summary>
    public static T Build<T>(Func<T> create)
    {
        try
        {
            return create();
        }
        catch (ArgumentException e)
        {
            throw new SpecException(e.Message);
        }
    }

    /// <summary>A comma-separated list of finite numbers, e.g. <c>speeds=1,2,0.5</c>.</summary>
    public static double[] Numbers(SpecArguments args, string key, string raw)
    {
        var parts = raw.Split(',');
        var values = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
            {
                throw args.Fail(key, raw, $"a comma-separated list of numbers ('{parts[i]}' is not one)");
            }
        }

        return values;
    }

    /// <summary>A comma-separated list of non-negative integers, e.g. <c>workers=0,3</c>.</summary>
    public static int[] Indices(SpecArguments args, string key, string raw)
    {
        var parts = raw.Split(',');
        var values = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out values[i]) || values[i] < 0)
            {
                throw args.Fail(key, raw, $"a comma-separated list of integers ≥ 0 ('{parts[i]}' is not one)");
            }
        }

        return values;
    }

    private static string Format(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
