using Dstar.Engine.Configuration;
using Xunit;

namespace Dstar.Engine.Tests;

public class ConfigTests
{
    private const string Valid = """
        seed: 7
        rounds: 40
        data:
          name: synthetic-logistic
          validation_size: 100
          samples: 2000
        model: logreg
        workers: 10
        k: 8
        aggregator: mean
        lr: 0.2
        """;

    /// <summary>Reads without the semantic checks (those need the registries), asserting the text itself was fine.</summary>
    private static ExperimentConfig Bind(string yaml, params string[] overrides)
    {
        var (config, errors) = ConfigLoader.Bind(yaml, overrides);
        Assert.Empty(errors);
        return config;
    }

    [Fact]
    public void Config_reads_nested_keys_and_keeps_defaults_for_the_rest()
    {
        var config = Bind(Valid);
        Assert.Equal(7, config.Seed);
        Assert.Equal(40, config.Rounds);
        Assert.Equal("synthetic-logistic", config.Data.Name);
        Assert.Equal(100, config.Data.ValidationSize);
        Assert.Equal(2000, config.Data.Samples);
        Assert.Equal(10, config.Workers);
        Assert.Equal(0.2, config.LearningRate);
        Assert.Equal(new ExperimentConfig().BatchSize, config.BatchSize);
    }

    [Fact]
    public void Set_overrides_any_key_including_nested_ones_and_lists()
    {
        var config = Bind(Valid, "k=5", "data.validation_size=50", "momentum=0.9", "deadline=2.5", "k_min=3");
        Assert.Equal(5, config.K);
        Assert.Equal(50, config.Data.ValidationSize);
        Assert.Equal(0.9, config.Momentum);
        Assert.Equal(2.5, config.Deadline);
        Assert.Equal(3, config.KMin);
    }

    [Fact]
    public void Set_reads_a_yaml_list_for_pre()
    {
        var errors = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Valid, ["pre=[\"no-such-pre a=1\", other]"])).Errors;
        Assert.Contains(errors, e => e.Key == "pre[0]" && e.Value == "no-such-pre a=1");
        Assert.Contains(errors, e => e.Key == "pre[1]" && e.Value == "other");
    }

    [Fact]
    public void Validation_reports_every_bad_field_by_name_and_value()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Valid,
            ["k=30", "lr=-1", "momentum=1.5", "batch_size=0", "data.name=imagenet", "aggregator=no-such-rule", "attack_timing=slow", "rounds=abc", "colour=blue"]));
        var byKey = e.Errors.ToDictionary(x => x.Key, x => x, StringComparer.Ordinal);
        Assert.Equal("30", byKey["k"].Value);
        Assert.Contains("workers = 10", byKey["k"].Problem);
        Assert.Equal("-1", byKey["lr"].Value);
        Assert.Equal("1.5", byKey["momentum"].Value);
        Assert.Equal("0", byKey["batch_size"].Value);
        Assert.Equal("imagenet", byKey["data.name"].Value);
        Assert.Contains("fashion-mnist", byKey["data.name"].Problem);
        Assert.Contains("no-such-rule", byKey["aggregator"].Problem);
        Assert.Equal("slow", byKey["attack_timing"].Value);
        Assert.Equal("abc", byKey["rounds"].Value);
        Assert.Contains("integer", byKey["rounds"].Problem);
        Assert.Contains("unknown key", byKey["colour"].Problem);

        // The message itself lists every field, one per line.
        foreach (var key in new[] { "k", "lr", "momentum", "batch_size", "data.name", "aggregator", "attack_timing", "rounds", "colour" })
        {
            Assert.Contains(key + " = ", e.Message);
        }
    }

    [Fact]
    public void Wire_takes_the_three_formats_and_enters_the_cluster_contract()
    {
        Assert.Equal("float32", ConfigLoader.Load(Valid).Wire);
        Assert.Equal("bfloat16", ConfigLoader.Load(Valid, ["wire=bfloat16"]).Wire);
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Valid, ["wire=int8"]));
        var error = Assert.Single(e.Errors, x => x.Key == "wire");
        Assert.Equal("int8", error.Value);
        Assert.Contains("float32, bfloat16, float16", error.Problem);

        // A worker must encode as its server decodes: the key is part of the fingerprint, and survives a save.
        var float16 = ConfigLoader.Load(Valid, ["wire=float16"]);
        Assert.Equal(["wire: 'float16' ≠ 'float32'"], ConfigFingerprint.Of(float16).Differences(ConfigFingerprint.Of(ConfigLoader.Load(Valid)).Values));
        Assert.Equal("float16", ConfigLoader.Load(ConfigLoader.ToYaml(float16)).Wire);
    }

    [Fact]
    public void Byzantine_workers_need_an_attack()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Valid, ["byzantine=3"]));
        Assert.Contains(e.Errors, x => x.Key == "attack" && x.Problem.Contains("byzantine = 3"));
    }

    [Theory]
    [InlineData("aggregator=dstar", "dstar (center=median) needs the server's validation gradient g₀, got none: set data.validation_size ≥ 1")]
    [InlineData("aggregator=fltrust", "fltrust needs the server's validation gradient g₀, got none: set data.validation_size ≥ 1")]
    [InlineData("k=auto", "dstar (center=median) needs the server's validation gradient g₀, got none: set data.validation_size ≥ 1")]
    public void A_rule_that_needs_g0_without_a_validation_split_names_the_key_to_set(string set, string expected)
    {
        string[] overrides = set == "k=auto" ? ["aggregator=dstar", set, "data.validation_size=0"] : [set, "data.validation_size=0"];
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Valid, overrides));
        var error = Assert.Single(e.Errors);
        Assert.Equal("aggregator", error.Key);
        Assert.StartsWith(expected, error.Problem);
        Assert.DoesNotContain("Context", error.Problem);
    }

    [Fact]
    public void Malformed_yaml_is_reported_as_a_file_error()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load("seed: 1\n  rounds: : 3\n- x"));
        Assert.Contains(e.Errors, x => x.Key == "(file)" && x.Problem.Contains("not valid YAML"));
        var unterminated = Assert.Throws<ConfigException>(() => ConfigLoader.Load("seed: [1, 2\nrounds: 3"));
        Assert.Contains(unterminated.Errors, x => x.Key == "(file)" && x.Problem.Contains("not valid YAML"));
    }

    [Fact]
    public void Resolved_config_round_trips_through_yaml()
    {
        var config = Bind(Valid, "deadline=3", "k_min=4", "attack=label-flip", "byzantine=2");
        var yaml = ConfigLoader.ToYaml(config);
        var again = Bind(yaml);
        Assert.Equal(yaml, ConfigLoader.ToYaml(again));
        Assert.Equal(config with { Pre = again.Pre }, again);
        Assert.Contains("data:", yaml);
        Assert.Contains("  name: synthetic-logistic", yaml);
    }

    [Fact]
    public void A_trace_delay_is_read_from_disk_and_a_missing_file_is_a_config_error_naming_it()
    {
        var path = Path.Combine(Path.GetTempPath(), $"dstar-trace-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, string.Join("\n", Enumerable.Range(0, 40).Select(r => string.Join(",", Enumerable.Range(0, 10).Select(w => (w + r % 3).ToString())))));
        try
        {
            var config = ConfigLoader.Load(Valid, [$"delay=trace file={path}"]);
            Assert.Equal($"trace file={path}", config.Delay);
            var missing = path + ".gone";
            var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Valid, [$"delay=trace file={missing}"]));
            var error = Assert.Single(e.Errors, x => x.Key == "delay");
            Assert.Contains($"cannot read file '{missing}'", error.Problem);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
