using System.Text;
using Dstar.Cli.Failures;
using Dstar.Cli.Npy;
using Xunit;

namespace Dstar.Cli.Tests.Npy;

/// <summary>
/// Random and adversarial .npy files (seeded, a fixed number of cases): the reader either reads them or refuses with
/// <see cref="NpyFormatException"/>, never allocating for a shape the file does not hold; and <c>dstar aggregate</c>
/// on them exits with a code of the table, one line, and leaves an existing output file unchanged when it fails.
/// </summary>
public class NpyFuzzTests
{
    private const int Cases = 300;
    private const long MaxBytesPerCase = 32L << 20;

    private static readonly string[] Descrs = ["'<f4'", "'<f8'", "'>f4'", "'|u1'", "'<i8'", "'<f2'", "[('a', '<f4')]", "'<c8'", "'f4'", "''", "None", "'<f4"];
    private static readonly string[] Orders = ["False", "True", "0", "None", "'no'"];

    private static readonly string[] Shapes =
    [
        "(2, 3)", "(6,)", "()", "(0, 3)", "(3, 0)", "(2147483647, 2147483647)", "(99999999999999999999, 1)", "(-1, 3)", "(2, -3)", "(1, 2, 3)",
        "(2, 3", "[2, 3]", "(2., 3)", "(0x2, 3)", "(2,,3)", "(" + string.Join(", ", Enumerable.Repeat("1", 100)) + ")", "(65536, 65536)",
    ];

    [Fact]
    public void Random_headers_are_read_or_refused_without_large_allocations()
    {
        var random = new Random(42);
        var directory = Path.Combine(Path.GetTempPath(), "dstar-npy-fuzz-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        try
        {
            for (int i = 0; i < Cases; i++)
            {
                var bytes = Case(random);
                var path = Path.Combine(directory, "x.npy");
                File.WriteAllBytes(path, bytes);
                var before = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    NpyReader.ReadMatrix(path);
                }
                catch (NpyFormatException e)
                {
                    Assert.DoesNotContain('\n', e.Message);
                }
                catch (Exception e)
                {
                    Assert.Fail($"case {i}: {e.GetType().Name}: {e.Message}\nheader: {Header(bytes)}");
                }

                var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.True(allocated < MaxBytesPerCase, $"case {i} allocated {allocated} bytes for a {bytes.Length}-byte file; header: {Header(bytes)}");
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Aggregate_on_random_files_fails_cleanly_and_keeps_the_existing_output()
    {
        var random = new Random(43);
        using var run = new CliRun();
        var output = run.PathOf("out.npy");
        NpyWriter.Write(output, new float[] { 7, 7, 7 }, 3);
        var kept = File.ReadAllBytes(output);
        int[] codes = [ExitCodes.Ok, ExitCodes.RunFailed, ExitCodes.Usage, ExitCodes.Data];
        for (int i = 0; i < Cases / 5; i++)
        {
            var bytes = Case(random);
            File.WriteAllBytes(run.PathOf("x.npy"), bytes);
            var result = CliRun.Invoke("aggregate", "--rule", "median", "--input", run.PathOf("x.npy"), "--output", output);
            Assert.Contains(result.Exit, codes);
            if (result.Exit != ExitCodes.Ok)
            {
                Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
                Assert.DoesNotContain("   at ", result.Error);
                Assert.Equal(kept, File.ReadAllBytes(output));
            }
            else
            {
                kept = File.ReadAllBytes(output);
            }
        }

        Assert.Equal(["out.npy", "x.npy"], Directory.GetFiles(run.Directory).Select(Path.GetFileName).Order());
    }

    private static byte[] Case(Random random)
    {
        switch (random.Next(4))
        {
            case 0:
                // Pure noise, sometimes behind the magic string.
                var noise = new byte[random.Next(0, 200)];
                random.NextBytes(noise);
                return random.Next(2) == 0 ? noise : [0x93, .. "NUMPY"u8.ToArray(), (byte)random.Next(0, 4), 0, .. noise];
            case 1:
                // A valid file with bytes flipped.
                var valid = RawNpy.Build("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", RawNpy.Floats(6));
                for (int flips = random.Next(1, 4); flips > 0; flips--)
                {
                    valid[random.Next(valid.Length)] = (byte)random.Next(256);
                }

                return valid;
            default:
                var header = $"{{'descr': {Pick(random, Descrs)}, 'fortran_order': {Pick(random, Orders)}, 'shape': {Pick(random, Shapes)}, }}";
                if (random.Next(4) == 0)
                {
                    header = header.Remove(random.Next(header.Length), 1);
                }

                var data = new byte[random.Next(0, 64)];
                random.NextBytes(data);
                return RawNpy.Build(header, data, major: random.Next(5) == 0 ? 2 : 1);
        }
    }

    private static string Header(byte[] bytes) => Encoding.ASCII.GetString(bytes, 0, Math.Min(bytes.Length, 160)).ReplaceLineEndings(" ");

    private static string Pick(Random random, string[] items) => items[random.Next(items.Length)];
}
