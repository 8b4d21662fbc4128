namespace Dstar.Core.Specs;

/// <summary>One buildable component: its name, a one-line summary with its parameters, and its factory.</summary>
public sealed record CatalogEntry<T>(string Name, string Summary, Func<SpecArguments, T> Create);

/// <summary>The components of one kind (rules, pre-aggregators, attacks or delay models), buildable from specs.</summary>
public sealed class Catalog<T>
{
    private readonly Dictionary<string, CatalogEntry<T>> _entries;

    /// <summary>Creates a catalog of <paramref name="kind"/> (used in messages) from its entries.</summary>
    public Catalog(string kind, IEnumerable<CatalogEntry<T>> entries)
    {
        Kind = kind;
        _entries = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
    }

    /// <summary>"rule", "pre-aggregator", "attack" or "delay model".</summary>
    public string Kind { get; }

    /// <summary>Every entry, in registration order.</summary>
    public IEnumerable<CatalogEntry<T>> Entries => _entries.Values;

    /// <summary>Every name.</summary>
    public IEnumerable<string> Names => _entries.Keys;

    /// <summary>Builds a component from its text spec; <paramref name="files"/> reads any file the spec names.</summary>
    /// <exception cref="SpecException">unknown name (listing the valid ones), unknown parameter, a bad value, or a file
    /// that cannot be read (or no reader for one).</exception>
    public T Create(string text, ISpecFiles? files = null) => Create(Spec.Parse(text), files);

    /// <summary>Builds a component from a parsed spec; <paramref name="files"/> reads any file the spec names.</summary>
    /// <exception cref="SpecException">unknown name (listing the valid ones), unknown parameter, a bad value, or a file
    /// that cannot be read (or no reader for one).</exception>
    public T Create(Spec spec, ISpecFiles? files = null)
    {
        if (!_entries.TryGetValue(spec.Name, out var entry))
        {
            throw new SpecException($"unknown {Kind} '{spec.Name}' (valid: {string.Join(", ", _entries.Keys)})");
        }

        var args = new SpecArguments(spec, files);
        var component = entry.Create(args);
        args.EnsureAllUsed();
        return component;
    }
}
