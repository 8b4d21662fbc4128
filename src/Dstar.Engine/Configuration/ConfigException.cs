namespace Dstar.Engine.Configuration;

/// <summary>One refused configuration field: its key, the value given, and what is needed.</summary>
/// <param name="Key">The YAML key, for example <c>data.partition</c>.</param>
/// <param name="Value">The value as written (empty when missing).</param>
/// <param name="Problem">What is wrong and what would be accepted.</param>
public sealed record ConfigError(string Key, string Value, string Problem)
{
    /// <summary>The most characters of a value shown in a message (a huge value is cut, with its length).</summary>
    public const int ShownValueLength = 120;

    /// <summary><c>key = 'value': problem</c> (<c>key: problem</c> without a value), the value cut to <see cref="ShownValueLength"/> characters.</summary>
    public override string ToString() => Value.Length == 0 ? $"{Key}: {Problem}" : $"{Key} = '{Shown(Value)}': {Problem}";

    private static string Shown(string value) =>
        value.Length <= ShownValueLength ? value : $"{value[..ShownValueLength]}… ({value.Length} characters)";
}

/// <summary>The configuration has one or more bad fields; <see cref="Errors"/> lists every one of them.</summary>
public sealed class ConfigException(IReadOnlyList<ConfigError> errors)
    : Exception($"invalid configuration ({errors.Count} problem{(errors.Count == 1 ? "" : "s")}):" + Environment.NewLine
        + string.Join(Environment.NewLine, errors.Select(e => "  " + e)))
{
    /// <summary>Every bad field.</summary>
    public IReadOnlyList<ConfigError> Errors { get; } = errors;
}
