using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dstar.Cli.Npy;
using Xunit;

namespace Dstar.Cli.Tests;

/// <summary>
/// <c>dstar aggregate</c> against the independent numpy reference in <c>tests/reference/rules.py</c>, on random inputs
/// with outliers (huge rows, sign flips, scaled rows, non-finite rows), for several (n, d, f). Agreement means, per
/// coordinate, |a − b| ≤ 1e-4·(1 + |b|), or both sides refusing the input. Needs /usr/bin/python3 with numpy
/// (Debian: python3-numpy; .ci/run installs it).
/// </summary>
[Trait("Category", "Reference")]
public class ReferenceAgreementTests
{
    private const double Tolerance = 1e-4;

    /// <summary>One input shape: n rows of dimension d, f of them Byzantine, and how many rows hold NaN/∞.</summary>
    /// <remarks><see cref="HugeScale"/> is the standard deviation of the "huge" Byzantine rows; at 1e19 their squared
    /// distances overflow float32, which the rules must survive.</remarks>
    public sealed record Config(int Rows, int Dimension, int ByzantineCount, int Seed, int NonFiniteRows = 0, bool Float64 = false, double HugeScale = 1e6)
    {
        public override string ToString() =>
            $"n={Rows} d={Dimension} f={ByzantineCount} seed={Seed}" + (NonFiniteRows > 0 ? $" non-finite={NonFiniteRows}" : "")
            + (Float64 ? " float64" : "") + (HugeScale != 1e6 ? $" huge={HugeScale:G3}" : "");
    }

    /// <summary>
    /// A rule chain run by dstar and the chain the reference runs to check it (the same, unless a structural property
    /// stands in for a random component, e.g. bucketing with n divisible by s followed by the mean is the mean).
    /// </summary>
    public sealed record Case(
        string Rule,
        string[] Pre,
        string? ReferenceRule = null,
        string[]? ReferencePre = null,
        Func<Config, bool>? Applies = null,
        Comparison Compare = Comparison.Coordinates);

    /// <summary>How an output is compared with the reference's.</summary>
    public enum Comparison
    {
        /// <summary>Per coordinate, |a − b| ≤ 1e-4·(1 + |b|).</summary>
        Coordinates,

        /// <summary>
        /// The geometric median at dstar's default tolerance and iteration cap, by first-order optimality: the norm of
        /// the objective's gradient at dstar's z, divided by n, is ≤ 1e-4. (The reference iterates to convergence and
        /// is compared by coordinates in the case that runs dstar to convergence too.)
        /// </summary>
        GeometricMedianOptimality,
    }

    private static readonly Config[] Configs =
    [
        new(7, 5, 1, 11),
        new(11, 16, 2, 12),
        new(16, 33, 3, 13),
        new(16, 24, 3, 14, Float64: true),
        new(15, 9, 2, 15, NonFiniteRows: 2),
        new(20, 12, 4, 16),
        new(13, 10, 3, 17, HugeScale: 1e19),
        new(9, 40, 2, 18, NonFiniteRows: 1, HugeScale: 1e19),
        new(16, 300, 3, 19),
        new(64, 70, 5, 20, NonFiniteRows: 1),
    ];

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["mean"] = new("mean", []),
        ["median"] = new("median", []),
        ["trimmed-mean"] = new("trimmed-mean", []),
        ["trimmed-mean f=1"] = new("trimmed-mean f=1", []),
        ["geometric-median"] = new("geometric-median", [], Applies: c => c.HugeScale < 1e19, Compare: Comparison.GeometricMedianOptimality),
        ["geometric-median tol=1e-12 iterations=100000"] = new("geometric-median tol=1e-12 iterations=100000", [], Applies: c => c.HugeScale < 1e19),
        ["krum"] = new("krum", []),
        ["multi-krum"] = new("multi-krum", []),
        ["multi-krum m=3"] = new("multi-krum m=3", []),
        ["bulyan"] = new("bulyan", []),
        ["centered-clipping"] = new("centered-clipping", []),
        ["centered-clipping tau=0.5 iterations=4"] = new("centered-clipping tau=0.5 iterations=4", []),
        ["meamed"] = new("meamed", []),
        ["mda"] = new("mda", []),
        ["mda max-subsets=100 (refuses C(n, f) > 100)"] = new("mda max-subsets=100", []),
        ["fltrust"] = new("fltrust", []),
        ["dstar"] = new("dstar", []),
        ["dstar tau=1"] = new("dstar tau=1", []),
        ["dstar tau=0.5"] = new("dstar tau=0.5", []),
        ["dstar center=exclude-validation"] = new("dstar center=exclude-validation", []),
        ["dstar reference=median-deviation"] = new("dstar reference=median-deviation", []),
        ["dstar include-validation=true"] = new("dstar include-validation=true", []),
        ["dstar batch-ratio=4"] = new("dstar batch-ratio=4", []),
        ["dstar tau=0.01 (nothing kept: g₀)"] = new("dstar tau=0.01", []),
        ["dstar reference=median-deviation include-validation=true"] = new("dstar reference=median-deviation include-validation=true", []),
        ["dstar center=median-of-means bucket=1"] = new("dstar center=median-of-means bucket=1", []),
        ["dstar reference=median-deviation center=exclude-validation tau=1"] = new("dstar reference=median-deviation center=exclude-validation tau=1", []),
        ["bucketing size=1 → median (a shuffle)"] = new("median", ["bucketing size=1"], "median", []),
        ["bucketing size=2 → mean (n even, finite)"] = new("mean", ["bucketing size=2"], "mean", [], c => c.Rows % 2 == 0 && c.NonFiniteRows == 0),
        ["bucketing size=4 → mean (n divisible by 4, finite)"] = new("mean", ["bucketing size=4"], "mean", [], c => c.Rows % 4 == 0 && c.NonFiniteRows == 0),
        ["nnm → mean"] = new("mean", ["nnm"]),
        ["clip → mean"] = new("mean", ["clip"]),
        ["clip c=5 → mean"] = new("mean", ["clip c=5"]),
        ["arc → mean"] = new("mean", ["arc"]),
        ["arc f=1 → mean"] = new("mean", ["arc f=1"]),
        ["nnm f=1 → mean"] = new("mean", ["nnm f=1"]),
        ["clip c=2 → nnm → multi-krum"] = new("multi-krum", ["clip c=2", "nnm"]),
        ["nnm → krum"] = new("krum", ["nnm"]),
        ["arc → nnm → median"] = new("median", ["arc", "nnm"]),
        ["nnm → trimmed-mean"] = new("trimmed-mean", ["nnm"]),
    };

    public static TheoryData<string> CaseNames() => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Dstar_aggregate_agrees_with_the_numpy_reference(string caseName) => Check(Cases[caseName]);

    [Fact]
    public void Geometric_median_converged_agrees_with_the_reference_when_distances_overflow_float() =>
        Check(new("geometric-median tol=1e-12 iterations=100000", [], Applies: c => c.HugeScale >= 1e19));

    [Fact]
    public void Geometric_median_at_its_default_tolerance_is_first_order_optimal_when_distances_overflow_float() =>
        Check(new("geometric-median", [], Applies: c => c.HugeScale >= 1e19, Compare: Comparison.GeometricMedianOptimality));

    private static void Check(Case @case)
    {
        using var run = new CliRun();
        var configs = Configs.Where(c => @case.Applies?.Invoke(c) ?? true).ToArray();
        var dstarResults = new List<(int Exit, string Error)>();
        var manifest = new List<Dictionary<string, object?>>();
        for (int k = 0; k < configs.Length; k++)
        {
            var config = configs[k];
            var (input, validation) = WriteInput(run, config, k);
            var output = run.PathOf($"dstar-{k}.npy");
            var args = new List<string> { "aggregate", "--rule", @case.Rule, "--input", input, "--validation", validation, "--f",
                config.ByzantineCount.ToString(CultureInfo.InvariantCulture), "--output", output };
            foreach (var pre in @case.Pre)
            {
                args.AddRange(["--pre", pre]);
            }

            var result = CliRun.Invoke([.. args]);
            dstarResults.Add((result.Exit, result.Error.Trim()));
            manifest.Add(new()
            {
                ["rule"] = @case.ReferenceRule ?? @case.Rule,
                ["pre"] = @case.ReferencePre ?? @case.Pre,
                ["input"] = input,
                ["validation"] = validation,
                ["f"] = config.ByzantineCount,
                ["output"] = run.PathOf($"reference-{k}.npy"),
            });
        }

        var references = RunReference(run, manifest);
        var failures = new List<string>();
        for (int k = 0; k < configs.Length; k++)
        {
            var (exit, error) = dstarResults[k];
            var reference = references[k];
            bool referenceOk = reference.GetProperty("ok").GetBoolean();
            if (!referenceOk)
            {
                if (exit == 0)
                {
                    failures.Add($"{configs[k]}: the reference refused ({reference.GetProperty("error").GetString()}) but dstar aggregated");
                }

                continue;
            }

            if (exit != 0)
            {
                failures.Add($"{configs[k]}: dstar refused ({error}) but the reference aggregated");
                continue;
            }

            var expected = NpyReader.Read(run.PathOf($"reference-{k}.npy")).Values;
            var actual = NpyReader.Read(run.PathOf($"dstar-{k}.npy")).Values;
            var mismatch = Compare(@case, run.PathOf($"input-{k}.npy"), actual, expected);
            if (mismatch is not null)
            {
                failures.Add($"{configs[k]}: {mismatch}");
            }
        }

        Assert.True(failures.Count == 0, $"{@case.Rule} [{string.Join(" → ", @case.Pre)}] disagrees with the reference:\n" + string.Join("\n", failures));
    }

    private static string? Compare(Case @case, string inputPath, float[] actual, float[] expected)
    {
        if (actual.Length != expected.Length)
        {
            return $"length {actual.Length} vs reference {expected.Length}";
        }

        if (@case.Compare == Comparison.GeometricMedianOptimality)
        {
            var (rows, n, d) = NpyReader.ReadMatrix(inputPath);
            double residual = OptimalityResidual(rows, n, d, actual);
            return residual <= Tolerance
                ? null
                : string.Create(CultureInfo.InvariantCulture, $"‖Σᵢ (z − xᵢ)/‖z − xᵢ‖‖ / n = {residual:E2} at dstar's z (0 at the geometric median)");
        }

        var worst = -1;
        double worstExcess = 0;
        for (int j = 0; j < actual.Length; j++)
        {
            double a = actual[j], b = expected[j];
            double excess = double.IsFinite(a) ? Math.Abs(a - b) / (1 + Math.Abs(b)) : double.PositiveInfinity;
            if (excess > worstExcess)
            {
                (worst, worstExcess) = (j, excess);
            }
        }

        if (worstExcess <= Tolerance)
        {
            return null;
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"coordinate {worst}: dstar {actual[worst]:R} vs reference {expected[worst]:R} (|a−b|/(1+|b|) = {worstExcess:E2})");
    }

    /// <summary>
    /// ‖Σᵢ (z − xᵢ)/max(ν, ‖z − xᵢ‖)‖ / n over the finite rows, in double: the gradient of the smoothed objective
    /// Σᵢ ‖xᵢ − z‖, 0 at the geometric median. Every row pulls with a unit vector however far it is, so this does not
    /// let a far row hide (as a relative objective gap would).
    /// </summary>
    private static double OptimalityResidual(float[] rows, int n, int d, float[] z)
    {
        const double smoothing = 1e-6;
        var gradient = new double[d];
        int finite = 0;
        for (int i = 0; i < n; i++)
        {
            var row = rows.AsSpan(i * d, d);
            if (!row.ToArray().All(float.IsFinite))
            {
                continue;
            }

            finite++;
            double squared = 0;
            for (int j = 0; j < d; j++)
            {
                double diff = (double)z[j] - row[j];
                squared += diff * diff;
            }

            double distance = Math.Max(smoothing, Math.Sqrt(squared));
            for (int j = 0; j < d; j++)
            {
                gradient[j] += ((double)z[j] - row[j]) / distance;
            }
        }

        return Math.Sqrt(gradient.Sum(g => g * g)) / finite;
    }

    private static (string Input, string Validation) WriteInput(CliRun run, Config config, int k)
    {
        var (rows, validation) = Inputs.WithOutliers(config);
        var input = run.PathOf($"input-{k}.npy");
        if (config.Float64)
        {
            NpyWriter.Write(input, rows.Select(v => (double)v).ToArray(), config.Rows, config.Dimension);
        }
        else
        {
            NpyWriter.Write(input, rows, config.Rows, config.Dimension);
        }

        var validationPath = run.PathOf($"validation-{k}.npy");
        NpyWriter.Write(validationPath, validation, config.Dimension);
        return (input, validationPath);
    }

    private static List<JsonElement> RunReference(CliRun run, List<Dictionary<string, object?>> manifest)
    {
        var manifestPath = run.PathOf("manifest.json");
        File.WriteAllText(manifestPath, JsonSerializer.Serialize(manifest));
        const string python = "/usr/bin/python3";
        Assert.True(File.Exists(python), "the reference needs /usr/bin/python3 with numpy (apt-get install python3-numpy)");
        var start = new ProcessStartInfo(python) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(ReferenceScript());
        start.ArgumentList.Add(manifestPath);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(300_000), "the numpy reference did not finish in 5 minutes");
        Assert.True(process.ExitCode == 0, $"the numpy reference failed:\n{stderr.Result}");
        using var results = JsonDocument.Parse(File.ReadAllText(manifestPath + ".out"));
        return results.RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
    }

    private static string ReferenceScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "reference", "rules.py");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("tests/reference/rules.py not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>Random gradients with Byzantine outliers, seeded.</summary>
internal static class Inputs
{
    /// <summary>
    /// Honest rows: truth + N(0, 0.5²); the validation gradient likewise. The f Byzantine rows, at random positions,
    /// cycle through: huge (HugeScale·N(0,1), 1e6 by default), sign flip (−mean of the honest rows), scaled (−5·truth), far (truth + 50).
    /// Then <see cref="ReferenceAgreementTests.Config.NonFiniteRows"/> further rows get a NaN or an ∞.
    /// </summary>
    public static (float[] Rows, float[] Validation) WithOutliers(ReferenceAgreementTests.Config config)
    {
        int n = config.Rows, d = config.Dimension, f = config.ByzantineCount;
        var random = new Random(config.Seed);
        var truth = Gaussian(random, d, 1.0);
        var rows = new float[n][];
        for (int i = 0; i < n; i++)
        {
            rows[i] = Add(truth, Gaussian(random, d, 0.5));
        }

        var order = Enumerable.Range(0, n).OrderBy(_ => random.Next()).ToArray();
        var honest = order.Skip(f).ToArray();
        var honestMean = new float[d];
        for (int j = 0; j < d; j++)
        {
            honestMean[j] = (float)honest.Average(i => rows[i][j]);
        }

        for (int b = 0; b < f; b++)
        {
            rows[order[b]] = (b % 4) switch
            {
                0 => Gaussian(random, d, config.HugeScale),
                1 => honestMean.Select(v => -v).ToArray(),
                2 => truth.Select(v => -5 * v).ToArray(),
                _ => truth.Select(v => v + 50).ToArray(),
            };
        }

        for (int k = 0; k < config.NonFiniteRows; k++)
        {
            var row = rows[honest[k]];
            row[random.Next(d)] = k % 2 == 0 ? float.NaN : float.PositiveInfinity;
        }

        var validation = Add(truth, Gaussian(random, d, 0.5));
        return (rows.SelectMany(r => r).ToArray(), validation);
    }

    private static float[] Add(float[] a, float[] b) => a.Zip(b, (x, y) => x + y).ToArray();

    private static float[] Gaussian(Random random, int d, double scale)
    {
        var values = new float[d];
        for (int j = 0; j < d; j++)
        {
            double u = 1 - random.NextDouble(), v = random.NextDouble();
            values[j] = (float)(scale * Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v));
        }

        return values;
    }
}
