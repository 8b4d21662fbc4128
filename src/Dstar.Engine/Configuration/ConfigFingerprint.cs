using System.Security.Cryptography;
using System.Text;
using Dstar.Core.Specs;

namespace Dstar.Engine.Configuration;

/// <summary>
/// What a cluster worker and its server must agree on for the worker's gradients to belong to the server's run: the
/// seed (every random stream), the data and its partition, the model, N, f and the attack (which ids are Byzantine and
/// what they send), the delay model, and what an omniscient attacker simulates of the server (k, rule,
/// pre-aggregators, validation split and batch). Keys only the server uses (rounds, lr, momentum, weight decay,
/// deadline, k_min, evaluation and checkpoint periods, threads, simulation.parallel) and the host-specific <c>data.dir</c> are left out,
/// so that they may differ. Specs are compared in canonical form, so <c>krum  f=3</c> matches <c>krum f=3</c>.
/// </summary>
/// <param name="Values">Each contract key and its value, in <see cref="ConfigKeys.All"/> order.</param>
/// <param name="Hash">The first 16 hex digits of SHA-256 over the <c>key=value</c> lines, for logs.</param>
public sealed record ConfigFingerprint(IReadOnlyDictionary<string, string> Values, string Hash)
{
    /// <summary>The keys that may differ between a worker and its server.</summary>
    public static IReadOnlySet<string> ServerOnlyKeys { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "rounds", "eval_every", "data.dir", "deadline", "k_min", "lr", "momentum", "weight_decay", "checkpoint_every", "threads", "simulation.parallel",
    };

    /// <summary>The fingerprint of <paramref name="config"/>.</summary>
    public static ConfigFingerprint Of(ExperimentConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = new StringBuilder();
        foreach (var key in ConfigKeys.All.Where(k => !ServerOnlyKeys.Contains(k.Name)))
        {
            var raw = key.Write(config);
            var value = raw.List is { } list ? "[" + string.Join(", ", list.Select(Canonical)) + "]" : Canonical(raw.Scalar ?? "");
            values[key.Name] = value;
            lines.Append(key.Name).Append('=').Append(value).Append('\n');
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(lines.ToString())))[..16];
        return new ConfigFingerprint(values, hash);
    }

    /// <summary>
    /// The keys on which <paramref name="other"/> differs from this fingerprint, each as <c>key: this ≠ other</c>
    /// (a key missing on one side shows as <c>(missing)</c>); empty when they match.
    /// </summary>
    public IReadOnlyList<string> Differences(IReadOnlyDictionary<string, string> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var differences = new List<string>();
        foreach (var key in Values.Keys.Union(other.Keys, StringComparer.Ordinal))
        {
            var mine = Values.GetValueOrDefault(key);
            var theirs = other.GetValueOrDefault(key);
            if (mine != theirs)
            {
                differences.Add($"{key}: {Shown(mine)} ≠ {Shown(theirs)}");
            }
        }

        return differences;
    }

    private static string Shown(string? value) =>
        value is null ? "(missing)" : value.Length <= 60 ? $"'{value}'" : $"'{value[..60]}…'";

    // A spec in canonical form when it parses as one (numbers and plain words parse too, unchanged); else as written.
    private static string Canonical(string text)
    {
        try
        {
            return Spec.Parse(text).ToString();
        }
        catch (SpecException)
        {
            return text.Trim();
        }
    }
}
