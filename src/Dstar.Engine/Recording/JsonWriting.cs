using System.Text.Json;

namespace Dstar.Engine.Recording;

/// <summary>The small <see cref="Utf8JsonWriter"/> helpers that the run files, the study reports and the view share.</summary>
public static class JsonWriting
{
    /// <summary>Writes <c>"name": value</c>, or <c>"name": null</c> for a missing or non-finite value (JSON has no NaN or ∞).</summary>
    public static void WriteNumberOrNull(this Utf8JsonWriter writer, string name, double? value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (value is { } v && double.IsFinite(v))
        {
            writer.WriteNumber(name, v);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    /// <summary>Writes <c>"name": {"key": "value", …}</c> in the dictionary's order.</summary>
    public static void WriteStrings(this Utf8JsonWriter writer, string name, IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(values);
        writer.WriteStartObject(name);
        foreach (var (key, value) in values)
        {
            writer.WriteString(key, value);
        }

        writer.WriteEndObject();
    }
}
