using System.Runtime.InteropServices;
using TorchSharp;

namespace Dstar.Learning.Oracle;

/// <summary>
/// The one setting for how many CPU threads torch uses, so that many simulated workers on few cores do not
/// oversubscribe. Each gradient runs on one thread of the simulator (one after another, or on several threads with
/// their own model replicas under <c>simulation.parallel</c>); the count is set once per process. Order of precedence: the <c>DSTAR_TORCH_THREADS</c> environment variable (a setting of the
/// machine, so it wins over the experiment's), then the explicit count (the config's <c>threads</c>), then 1. The
/// default is 1 because torch's OpenMP threads spin while they wait: measured on 2 cores shared with other processes
/// (load ≈ 20), a small-cnn batch-32 gradient cost 21 ms of CPU with 1 thread and about 160 ms with 2. Raise it (for
/// example to the core count) only where the process has the cores to itself, such as one simulator on a dedicated
/// machine. Inter-op parallelism is set to 1 (a gradient is one chain of ops).
/// </summary>
public static class TorchThreads
{
    /// <summary>The environment variable that sets the count when no explicit one is given.</summary>
    public const string EnvironmentVariable = "DSTAR_TORCH_THREADS";

    private static readonly Lock Gate = new();
    private static bool _interopSet;

    /// <summary>The intra-op thread count last applied; 0 before <see cref="Configure"/> has run.</summary>
    public static int Count { get; private set; }

    /// <summary>Where <see cref="Count"/> came from: <c>DSTAR_TORCH_THREADS</c>, <c>threads</c> or <c>default</c>.</summary>
    public static string Source { get; private set; } = "default";

    /// <summary>The largest count accepted from the environment: four per core.</summary>
    public static int MaxCount => 4 * Environment.ProcessorCount;

    private static string Expected => $"expected an integer in 1..{MaxCount} (4 per core)";

    /// <summary>What the environment variable should be when it is unusable (junk, below 1, above <see cref="MaxCount"/>), or null when it is unset or fine.</summary>
    public static string? CheckEnvironment()
    {
        try
        {
            FromEnvironment();
            return null;
        }
        catch (InvalidOperationException)
        {
            return Expected;
        }
    }

    /// <summary>Applies the thread setting (idempotent; a later call with another count changes it).</summary>
    /// <param name="threads">An explicit count ≥ 1 (used unless the environment variable is set), or null for 1.</param>
    /// <returns>The count in force.</returns>
    /// <exception cref="ArgumentOutOfRangeException">an explicit count below 1.</exception>
    /// <exception cref="InvalidOperationException">the environment variable is set but is not an integer in 1..<see cref="MaxCount"/>.</exception>
    public static int Configure(int? threads = null)
    {
        var environment = FromEnvironment();
        int count = environment ?? threads ?? 1;
        var source = environment is not null ? EnvironmentVariable : threads is not null ? "threads" : "default";
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1, nameof(threads));
        lock (Gate)
        {
            if (!_interopSet)
            {
                _interopSet = true;
                try
                {
                    torch.set_num_interop_threads(1);
                }
                catch (Exception e) when (e is InvalidOperationException or ExternalException)
                {
                    // libtorch refuses once inter-op work has started; the default is then kept, which only matters
                    // for graphs with independent branches.
                }
            }

            if (Count != count)
            {
                torch.set_num_threads(count);
                Count = count;
            }

            Source = source;

            return count;
        }
    }

    /// <summary>Applies the default setting unless <see cref="Configure"/> already ran.</summary>
    public static void EnsureConfigured()
    {
        if (Count == 0)
        {
            Configure();
        }
    }

    private static int? FromEnvironment() => Parse(Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary>The count a value of <c>DSTAR_TORCH_THREADS</c> sets: null for unset or blank.</summary>
    /// <exception cref="InvalidOperationException">junk, below 1 or above <see cref="MaxCount"/>; the message names the variable and the value.</exception>
    public static int? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (!int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value)
            || value < 1 || value > MaxCount)
        {
            var shown = text.Length <= 40 ? text : text[..40] + "…";
            throw new InvalidOperationException($"{EnvironmentVariable}={shown} is invalid: {Expected}");
        }

        return value;
    }
}
