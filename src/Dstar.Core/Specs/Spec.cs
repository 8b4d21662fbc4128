
namespace Dstar.Core.Specs;

/// <summary>
/// A component described as text: <c>name key=value ...</c>, for example <c>krum f=3</c> or
/// <c>dstar tau=2 center=median</c>. Shared by configs and the command line.
/// </summary>
public sealed record Spec(string Name, IReadOnlyDictionary<string, string> Parameters)
{
    /// <summary>Parses a spec. Whitespace separates tokens; the first token is the name.</summary>
    /// <exception cref="SpecException">the text is empty, a token is not key=value, or a key repeats.</exception>
    public static Spec Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new SpecException("empty spec: expected 'name key=value ...'");
        }

        var tokens = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var name = tokens[0];
        if (name.Contains('='))
        {
            throw new SpecException($"spec '{text}' must start with a name, got '{name}'");
        }

        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var token in tokens.Skip(1))
        {
            int eq = token.IndexOf('=');
            if (eq <= 0 || eq == token.Length - 1)
            {
                throw new SpecException($"spec '{text}': '{token}' is not key=value");
            }

            var key = token[..eq];
            if (!parameters.TryAdd(key, token[(eq + 1)..]))
            {
                throw new SpecException($"spec '{text}': parameter '{key}' is given twice");
            }
        }

        return new Spec(name.ToLowerInvariant(), parameters);
    }

    /// <summary>The canonical text form: name, then parameters sorted by key.</summary>
    public override string ToString() =>
        Parameters.Count == 0
            ? Name
            : Name + " " + string.Join(" ", Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
}

/// <summary>A spec could not be parsed or built; the message names the component and the offending value.</summary>
public sealed class SpecException(string message) : Exception(message);
