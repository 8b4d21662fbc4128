using System.Globalization;
using Dstar.Core.Specs;

namespace Dstar.Cluster.Configuration;

/// <summary>
/// One cluster run, as plain data. Read from a flat YAML file of <c>key: value</c> lines (comments with <c>#</c>)
/// and <c>--set key=value</c> overrides; validated in one place (<see cref="Validate"/>), every error naming the key
/// and the value refused. Workers with ids ≥ <see cref="Workers"/> − <see cref="Byzantine"/> are Byzantine.
/// </summary>
public sealed record ClusterConfig
{
    /// <summary>Seed of everything random (data, minibatches, delays, attacks, aggregation).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>N: the number of workers.</summary>
    public int Workers { get; init; } = 6;

    /// <summary>k: the number of gradients aggregated per round (first k to arrive).</summary>
    public int K { get; init; } = 4;

    /// <summary>k_min: with a deadline, the fewest gradients a round may close with (default ⌈k/2⌉+1).</summary>
    public int? KMin { get; init; }

    /// <summary>Round deadline in milliseconds (0 = none): after it, the round closes once k_min gradients are in.</summary>
    public int DeadlineMilliseconds { get; init; }

    /// <summary>f: the number of Byzantine workers (the highest ids).</summary>
    public int Byzantine { get; init; }

    /// <summary>Attack spec the Byzantine workers play (registry name; empty = they send honest gradients).</summary>
    public string Attack { get; init; } = "";

    /// <summary>Aggregation rule spec (registry), e.g. <c>mean</c>.</summary>
    public string Rule { get; init; } = "mean";

    /// <summary>Pre-aggregator specs, comma separated, applied in order.</summary>
    public string Pre { get; init; } = "";

    /// <summary>Delay model spec (registry; empty = no delay). Its sample, in seconds × <see cref="DelayScale"/>, is a real sleep.</summary>
    public string Delay { get; init; } = "";

    /// <summary>Real seconds per unit of the delay model's time.</summary>
    public double DelayScale { get; init; } = 0.01;

    /// <summary>Extra real milliseconds every gradient takes (emulates a heavier model; added to the delay model's time).</summary>
    public int ComputeMilliseconds { get; init; }

    /// <summary>Number of rounds T.</summary>
    public int Rounds { get; init; } = 50;

    /// <summary>Server learning rate η.</summary>
    public double LearningRate { get; init; } = 0.5;

    /// <summary>Server SGD momentum.</summary>
    public double Momentum { get; init; }

    /// <summary>Worker minibatch size b.</summary>
    public int Batch { get; init; } = 32;

    /// <summary>Model: <c>logistic</c> (synthetic logistic regression, the only cluster model without TorchSharp).</summary>
    public string Model { get; init; } = "logistic";

    /// <summary>d: the number of features of the synthetic task (the model has d + 1 parameters).</summary>
    public int Features { get; init; } = 20;

    /// <summary>Training samples of the synthetic task (shared round-robin: worker i holds samples i, i+N, …).</summary>
    public int Samples { get; init; } = 4000;

    /// <summary>Checkpoint every M rounds (0 = only on SIGTERM and at the end).</summary>
    public int CheckpointEvery { get; init; } = 10;

    /// <summary>The k_min in force: <see cref="KMin"/> or ⌈k/2⌉+1, capped at k.</summary>
    public int EffectiveKMin => KMin ?? Math.Min(K, (K + 1) / 2 + 1);

    /// <summary>True when worker <paramref name="id"/> is Byzantine.</summary>
    public bool IsByzantine(int id) => id >= Workers - Byzantine;

    /// <summary>Reads a config file and applies overrides (<c>key=value</c>), then validates.</summary>
    /// <exception cref="FileNotFoundException">the file does not exist.</exception>
    /// <exception cref="FormatException">a line, key or value is invalid; the message names it.</exception>
    public static ClusterConfig Load(string? path, IEnumerable<string>? overrides = null)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (path is not null)
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"Config file '{path}' does not exist.", path);
            }

            var lineNumber = 0;
            foreach (var raw in File.ReadLines(path))
            {
                lineNumber++;
                var hash = raw.IndexOf('#');
                var line = (hash >= 0 ? raw[..hash] : raw).Trim();
                if (line.Length == 0)
                {
                    continue;
                }

                var colon = line.IndexOf(':');
                if (colon <= 0)
                {
                    throw new FormatException($"{path}:{lineNumber}: expected 'key: value', got '{line}'.");
                }

                values[line[..colon].Trim()] = Unquote(line[(colon + 1)..].Trim());
            }
        }

        foreach (var setting in overrides ?? [])
        {
            var equals = setting.IndexOf('=');
            if (equals <= 0)
            {
                throw new FormatException($"--set '{setting}': expected key=value.");
            }

            values[setting[..equals].Trim()] = Unquote(setting[(equals + 1)..].Trim());
        }

        return FromValues(values);
    }

    /// <summary>Builds a config from key/value text; unknown keys are refused.</summary>
    /// <exception cref="FormatException">an unknown key or a value of the wrong type.</exception>
    public static ClusterConfig FromValues(IReadOnlyDictionary<string, string> values)
    {
        var c = new ClusterConfig();
        foreach (var (key, value) in values)
        {
            c = key switch
            {
                "seed" => c with { Seed = Int(key, value) },
                "workers" => c with { Workers = Int(key, value) },
                "k" => c with { K = Int(key, value) },
                "k-min" => c with { KMin = Int(key, value) },
                "deadline-ms" => c with { DeadlineMilliseconds = Int(key, value) },
                "byzantine" => c with { Byzantine = Int(key, value) },
                "attack" => c with { Attack = value },
                "rule" => c with { Rule = value },
                "pre" => c with { Pre = value },
                "delay" => c with { Delay = value },
                "delay-scale" => c with { DelayScale = Double(key, value) },
                "compute-ms" => c with { ComputeMilliseconds = Int(key, value) },
                "rounds" => c with { Rounds = Int(key, value) },
                "learning-rate" => c with { LearningRate = Double(key, value) },
                "momentum" => c with { Momentum = Double(key, value) },
                "batch" => c with { Batch = Int(key, value) },
                "model" => c with { Model = value },
                "features" => c with { Features = Int(key, value) },
                "samples" => c with { Samples = Int(key, value) },
                "checkpoint-every" => c with { CheckpointEvery = Int(key, value) },
                _ => throw new FormatException(
                    $"unknown config key '{key}' (valid: seed, workers, k, k-min, deadline-ms, byzantine, attack, rule, pre, " +
                    "delay, delay-scale, compute-ms, rounds, learning-rate, momentum, batch, model, features, samples, checkpoint-every)"),
            };
        }

        c.Validate();
        return c;
    }

    /// <summary>Checks every field; the message names the field, the value and what is needed.</summary>
    /// <exception cref="FormatException">a field is out of range or a spec does not build.</exception>
    public void Validate()
    {
        Require(Workers >= 1, $"workers = {Workers}: need ≥ 1");
        Require(K >= 1 && K <= Workers, $"k = {K}: need 1 ≤ k ≤ workers ({Workers})");
        Require(EffectiveKMin >= 1 && EffectiveKMin <= K, $"k-min = {EffectiveKMin}: need 1 ≤ k-min ≤ k ({K})");
        Require(DeadlineMilliseconds >= 0, $"deadline-ms = {DeadlineMilliseconds}: need ≥ 0");
        Require(Byzantine >= 0 && Byzantine < Workers, $"byzantine = {Byzantine}: need 0 ≤ byzantine < workers ({Workers})");
        Require(Rounds >= 1, $"rounds = {Rounds}: need ≥ 1");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), $"learning-rate = {LearningRate}: need a finite value > 0");
        Require(Momentum >= 0 && Momentum < 1, $"momentum = {Momentum}: need 0 ≤ momentum < 1");
        Require(Batch >= 1, $"batch = {Batch}: need ≥ 1");
        Require(Model == "logistic", $"model = '{Model}': the cluster supports 'logistic'");
        Require(Features >= 1, $"features = {Features}: need ≥ 1");
        Require(Samples >= Workers, $"samples = {Samples}: need ≥ workers ({Workers}) so every worker holds data");
        Require(DelayScale >= 0 && double.IsFinite(DelayScale), $"delay-scale = {DelayScale}: need a finite value ≥ 0");
        Require(ComputeMilliseconds >= 0, $"compute-ms = {ComputeMilliseconds}: need ≥ 0");
        Require(CheckpointEvery >= 0, $"checkpoint-every = {CheckpointEvery}: need ≥ 0");
        try
        {
            _ = Registry.Pipeline(Rule, PreSpecs);
            if (Attack.Length > 0)
            {
                _ = Registry.Attacks.Create(Attack);
            }

            if (Delay.Length > 0)
            {
                _ = Registry.Delays.Create(Delay);
            }
        }
        catch (SpecException e)
        {
            throw new FormatException($"config: {e.Message}", e);
        }
    }

    /// <summary>The pre-aggregator specs, split on commas.</summary>
    public IReadOnlyList<string> PreSpecs =>
        Pre.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The config as <c>key: value</c> lines (read back by <see cref="Load"/>).</summary>
    public string ToText()
    {
        var inv = CultureInfo.InvariantCulture;
        var lines = new List<string>
        {
            $"seed: {Seed}", $"workers: {Workers}", $"k: {K}", $"deadline-ms: {DeadlineMilliseconds}",
            $"byzantine: {Byzantine}", $"attack: \"{Attack}\"", $"rule: \"{Rule}\"", $"pre: \"{Pre}\"",
            $"delay: \"{Delay}\"", $"delay-scale: {DelayScale.ToString("R", inv)}", $"compute-ms: {ComputeMilliseconds}", $"rounds: {Rounds}",
            $"learning-rate: {LearningRate.ToString("R", inv)}", $"momentum: {Momentum.ToString("R", inv)}",
            $"batch: {Batch}", $"model: {Model}", $"features: {Features}", $"samples: {Samples}",
            $"checkpoint-every: {CheckpointEvery}",
        };
        if (KMin is { } kMin)
        {
            lines.Add($"k-min: {kMin}");
        }

        return string.Join('\n', lines) + "\n";
    }

    private static string Unquote(string value) =>
        value.Length >= 2 && (value[0] == '"' && value[^1] == '"' || value[0] == '\'' && value[^1] == '\'')
            ? value[1..^1]
            : value;

    private static int Int(string key, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new FormatException($"config key '{key}': '{value}' is not an integer.");

    private static double Double(string key, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new FormatException($"config key '{key}': '{value}' is not a number.");

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new FormatException($"config: {message}.");
        }
    }
}
