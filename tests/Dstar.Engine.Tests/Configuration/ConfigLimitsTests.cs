using Dstar.Engine.Configuration;
using Dstar.Learning.Oracle;
using Xunit;

namespace Dstar.Engine.Tests.Configuration;

/// <summary>Every size a user controls has a limit, refused before the run with the key, the value and the limit.</summary>
public class ConfigLimitsTests
{
    private static ConfigError Single(string? yaml, params string[] overrides)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(yaml, overrides));
        return Assert.Single(e.Errors);
    }

    [Theory]
    [InlineData("rounds=10000001", "rounds", "too large: the limit is 10000000")]
    [InlineData("rounds=99999999999", "rounds", "too large: the limit is 10000000")]
    [InlineData("rounds=-99999999999", "rounds", "too small: the smallest integer is -2147483648")]
    [InlineData("workers=4097", "workers", "too large: the limit is 4096")]
    [InlineData("batch_size=2147483647", "batch_size", "too large: the limit is 65536")]
    [InlineData("validation_batch_size=70000", "validation_batch_size", "too large: the limit is 65536")]
    [InlineData("data.features=1000001", "data.features", "too large: the limit is 1000000")]
    [InlineData("data.validation_size=10000001", "data.validation_size", "too large: the limit is 10000000")]
    public void A_size_above_its_limit_is_refused_naming_key_value_and_limit(string set, string key, string problem)
    {
        var error = Single(null, set);
        Assert.Equal(key, error.Key);
        Assert.Equal(set[(set.IndexOf('=') + 1)..], error.Value);
        Assert.Equal(problem, error.Problem);
    }

    [Fact]
    public void Threads_are_limited_to_four_per_core()
    {
        var error = Single(null, $"threads={4 * Environment.ProcessorCount + 1}");
        Assert.Equal($"too large: the limit is {4 * Environment.ProcessorCount} (4 per core; this machine has {Environment.ProcessorCount})", error.Problem);
        ConfigLoader.Load(null, [$"threads={4 * Environment.ProcessorCount}"]);
    }

    [Fact]
    public void Synthetic_data_is_limited_in_total_values()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, ["data.name=synthetic-linear", "data.samples=10000000", "data.features=1000", "model=linreg"]));
        var error = Assert.Single(e.Errors, x => x.Key == "data.samples");
        Assert.Equal("data.samples × data.features = 10000000000 values: the limit is 100000000", error.Problem);
    }

    [Fact]
    public void Long_specs_and_long_overrides_and_many_pre_aggregators_are_refused()
    {
        Assert.Contains("the limit is 1024", Single(null, "aggregator=mean " + new string('x', 1100)).Problem);
        Assert.Equal("--set", Single(null, "aggregator=" + new string('x', 5000)).Key);
        Assert.Contains("too many pre-aggregators: the limit is 16", Single(null, "pre=[" + string.Join(", ", Enumerable.Repeat("nnm", 17)) + "]").Problem);
    }

    [Fact]
    public void An_attack_spec_is_checked_even_without_byzantine_workers()
    {
        var error = Single(null, "byzantine=0", "attack=nonexistent");
        Assert.Equal("attack", error.Key);
        Assert.StartsWith("unknown attack 'nonexistent'", error.Problem);
        Assert.Contains("eps", Single(null, "byzantine=0", "attack=ipm eps=-1").Problem);
        ConfigLoader.Load(null, ["byzantine=0", "attack=label-flip"]);
    }

    [Fact]
    public void A_nested_alias_bomb_is_refused_after_one_pass_over_its_text()
    {
        var yaml = "a: &a [x, x, x, x, x, x, x, x, x]\n" + string.Concat(Enumerable.Range(1, 8).Select(i =>
            $"{(char)('a' + i)}: &{(char)('a' + i)} [{string.Join(",", Enumerable.Repeat("*" + (char)('a' + i - 1), 9))}]\n"));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = Single(yaml);
        Assert.Equal("(file)", error.Key);
        Assert.Equal("the YAML stands for more than 10000 nodes once its aliases (*name) are expanded: the limit is 10000", error.Problem);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public void A_few_aliases_are_still_fine()
    {
        var ok = ConfigLoader.Load("pre: &p [nnm]\nrounds: 3\n");
        Assert.Equal(["nnm"], ok.Pre);
        Assert.Equal(3, ok.Rounds);
    }

    [Fact]
    public void Deep_nesting_is_refused_without_recursing()
    {
        var deep = new string('[', 100_000) + new string(']', 100_000);
        Assert.Contains("more than 32 levels deep", Single("a: " + deep).Problem);
    }

    [Fact]
    public void A_document_over_the_size_limit_is_refused_before_parsing()
    {
        var error = Single("# " + new string('x', ConfigLimits.MaxDocumentBytes));
        Assert.Equal("(file)", error.Key);
        Assert.Contains("the limit is 1048576", error.Problem);
    }

    [Fact]
    public void A_config_file_is_read_at_most_to_its_limit()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile("/dev/zero"));
        Assert.Equal("--config = '/dev/zero': larger than 1048576 bytes: the limit is 1048576 (a config is a few hundred bytes)", Assert.Single(e.Errors).ToString());
        var missing = Assert.Throws<IOException>(() => ConfigLoader.LoadFile("/nonexistent/c.yaml"));
        Assert.Equal("--config '/nonexistent/c.yaml': cannot read the file: no such file", missing.Message);
    }

    [Fact]
    public void A_huge_value_is_cut_in_the_message()
    {
        var error = new ConfigError("model", new string('m', 5000), "unknown");
        Assert.True(error.ToString().Length < 200);
        Assert.Contains("(5000 characters)", error.ToString());
    }

    [Theory]
    [InlineData("3", 3)]
    [InlineData(" ", null)]
    [InlineData(null, null)]
    public void Torch_threads_from_the_environment_are_read(string? text, int? expected) => Assert.Equal(expected, TorchThreads.Parse(text));

    [Theory]
    [InlineData("lots")]
    [InlineData("0")]
    [InlineData("100000")]
    public void Torch_threads_from_the_environment_refuse_junk(string text)
    {
        var e = Assert.Throws<InvalidOperationException>(() => TorchThreads.Parse(text));
        Assert.StartsWith($"DSTAR_TORCH_THREADS={text} is invalid: expected an integer in 1..{TorchThreads.MaxCount}", e.Message);
    }
}
