using System.Text;
using Dstar.Engine.Configuration;
using Xunit;

namespace Dstar.Engine.Tests.Configuration;

/// <summary>
/// Random and adversarial YAML (seeded, a fixed number of cases): loading either succeeds or refuses with
/// <see cref="ConfigException"/> (or an <see cref="IOException"/> naming an unreadable file) — never another
/// exception — and no case allocates more than a bounded amount of memory.
/// </summary>
public class ConfigFuzzTests
{
    private const int Cases = 400;
    private const long MaxBytesPerCase = 64L << 20;

    private static readonly string[] Keys = [.. ConfigKeys.All.Select(k => k.Name), "unknown", "data", "", "a.b.c", "&x", "*x", "<<"];

    private static readonly string[] Values =
    [
        "0", "-1", "1", "2147483647", "2147483648", "99999999999", "-99999999999", "1e308", "NaN", ".inf", "-.inf", "~", "null", "",
        "\"\"", "'quoted'", "krum f=3", "dstar tau=0", "nnm", "[nnm, \"clip c=1\"]", "[[1], [2]]", "{a: 1}", "&a 1", "*a", "*undefined",
        "!!binary AAAA", "!!python/object:x {}", "|\n  block\n", ">-\n  folded\n", "\u0000", "\uFFFF", "😀", "[", "]", "{", "}", "- x",
        "? complex\n: key", "%YAML 1.1", "---", "...", "ipm eps=1e400", "shards per-worker=0", "mlp hidden=99999999", "x=1=2",
    ];

    [Fact]
    public void Random_and_adversarial_yaml_is_either_loaded_or_refused_with_one_error_per_problem()
    {
        var random = new Random(20261202);
        for (int i = 0; i < Cases; i++)
        {
            var yaml = i % 4 == 3 ? Mutated(random) : Generated(random);
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var config = ConfigLoader.Load(yaml);
                Assert.Empty(ConfigValidator.Validate(config));
            }
            catch (ConfigException e)
            {
                Assert.NotEmpty(e.Errors);
                Assert.All(e.Errors, error => Assert.True(error.ToString().Length < 2000, $"case {i}: a {error.ToString().Length}-character message"));
            }
            catch (Exception e)
            {
                Assert.Fail($"case {i}: {e.GetType().Name}: {e.Message}\n--- yaml ---\n{yaml}");
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < MaxBytesPerCase, $"case {i} allocated {allocated} bytes\n--- yaml ---\n{yaml}");
        }
    }

    [Fact]
    public void Random_overrides_are_either_applied_or_refused()
    {
        var random = new Random(7);
        for (int i = 0; i < Cases; i++)
        {
            var overrides = Enumerable.Range(0, random.Next(1, 4))
                .Select(_ => random.Next(5) == 0 ? Noise(random, 30) : $"{Pick(random, Keys)}={Pick(random, Values)}")
                .ToArray();
            try
            {
                ConfigLoader.Load(null, overrides);
            }
            catch (ConfigException e)
            {
                Assert.NotEmpty(e.Errors);
            }
            catch (Exception e)
            {
                Assert.Fail($"case {i}: {e.GetType().Name}: {e.Message}\n--- overrides ---\n{string.Join("\n", overrides)}");
            }
        }
    }

    private static string Generated(Random random)
    {
        var text = new StringBuilder();
        int lines = random.Next(1, 12);
        for (int l = 0; l < lines; l++)
        {
            var indent = new string(' ', random.Next(3) * 2);
            text.Append(indent).Append(Pick(random, Keys)).Append(": ").Append(Pick(random, Values)).Append('\n');
        }

        return text.ToString();
    }

    // A valid config with a few bytes changed, inserted or deleted, and sometimes an alias chain appended.
    private static string Mutated(Random random)
    {
        var text = new StringBuilder("seed: 3\nrounds: 5\ndata:\n  name: synthetic-logistic\n  samples: 200\nmodel: logreg\nworkers: 5\nk: 4\naggregator: median\npre: [nnm]\n");
        int edits = random.Next(1, 6);
        for (int e = 0; e < edits; e++)
        {
            int at = random.Next(text.Length);
            switch (random.Next(3))
            {
                case 0:
                    text[at] = (char)random.Next(0, 128);
                    break;
                case 1:
                    text.Insert(at, Noise(random, 4));
                    break;
                default:
                    text.Remove(at, Math.Min(random.Next(1, 5), text.Length - at));
                    break;
            }
        }

        if (random.Next(3) == 0)
        {
            int width = random.Next(2, 12);
            text.Append("x0: &x0 [").Append(string.Join(",", Enumerable.Repeat("v", width))).Append("]\n");
            for (int level = 1; level < random.Next(2, 10); level++)
            {
                text.Append($"x{level}: &x{level} [").Append(string.Join(",", Enumerable.Repeat($"*x{level - 1}", width))).Append("]\n");
            }
        }

        return text.ToString();
    }

    private const string Symbols = "&*[]{}:,-?|>!%@`'\"#\n\t =x0";

    private static string Noise(Random random, int length) =>
        new(Enumerable.Range(0, random.Next(1, length + 1)).Select(_ => Symbols[random.Next(Symbols.Length)]).ToArray());

    private static string Pick(Random random, string[] items) => items[random.Next(items.Length)];
}
