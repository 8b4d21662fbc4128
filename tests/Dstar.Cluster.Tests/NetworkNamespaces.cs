using System.Diagnostics;

namespace Dstar.Cluster.Tests;

/// <summary>
/// A star of Linux network namespaces for the multi-host test: one for the server, one per worker, each worker joined
/// to the server by its own veth pair on its own /24 (worker i is 10.77.i.2, and reaches the server at 10.77.i.1).
/// Needs root and iproute2; <see cref="WhyUnavailable"/> says why not when they are missing.
/// </summary>
internal sealed class NetworkNamespaces : IDisposable
{
    private readonly List<string> _namespaces = new();

    public NetworkNamespaces(int workers)
    {
        Prefix = "ds" + Guid.NewGuid().ToString("N")[..4];
        Server = Prefix + "-ps";
        Add(Server);
        Run("ip", "-n", Server, "link", "set", "lo", "up");
        for (var i = 0; i < workers; i++)
        {
            var worker = Worker(i);
            Add(worker);
            Run("ip", "-n", worker, "link", "set", "lo", "up");
            var serverEnd = $"{Prefix}s{i}";
            var workerEnd = $"{Prefix}w{i}";
            Run("ip", "link", "add", serverEnd, "type", "veth", "peer", "name", workerEnd);
            Run("ip", "link", "set", serverEnd, "netns", Server);
            Run("ip", "link", "set", workerEnd, "netns", worker);
            Run("ip", "-n", Server, "addr", "add", $"{ServerAddress(i)}/24", "dev", serverEnd);
            Run("ip", "-n", worker, "addr", "add", $"10.77.{i}.2/24", "dev", workerEnd);
            Run("ip", "-n", Server, "link", "set", serverEnd, "up");
            Run("ip", "-n", worker, "link", "set", workerEnd, "up");
        }
    }

    public string Prefix { get; }

    public string Server { get; }

    public string Worker(int i) => $"{Prefix}-w{i}";

    public static string ServerAddress(int worker) => $"10.77.{worker}.1";

    /// <summary>Command prefix that runs a program inside <paramref name="name"/>.</summary>
    public static string[] Exec(string name) => ["ip", "netns", "exec", name];

    /// <summary>Adds <paramref name="milliseconds"/> of delay to worker i's link with tc netem; false when the kernel lacks netem.</summary>
    public bool TrySlowLink(int worker, int milliseconds) =>
        TryRun("ip", "netns", "exec", Server, "tc", "qdisc", "add", "dev", $"{Prefix}s{worker}", "root", "netem", "delay", $"{milliseconds}ms").Ok;

    /// <summary>Null when namespaces can be made here, else the reason they cannot.</summary>
    public static string? WhyUnavailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces need Linux";
        }

        if (Environment.UserName != "root" && Environment.GetEnvironmentVariable("USER") != "root")
        {
            var (ok, output) = TryRun("id", "-u");
            if (!ok || output.Trim() != "0")
            {
                return "creating network namespaces needs root (run the tests as root, e.g. in CI)";
            }
        }

        var probe = "dsprobe" + Environment.ProcessId;
        var (added, error) = TryRun("ip", "netns", "add", probe);
        if (!added)
        {
            return $"'ip netns add' failed (iproute2 missing or no CAP_SYS_ADMIN): {error.Trim()}";
        }

        TryRun("ip", "netns", "del", probe);
        return null;
    }

    public void Dispose()
    {
        foreach (var name in _namespaces)
        {
            TryRun("ip", "netns", "del", name);
        }
    }

    private void Add(string name)
    {
        Run("ip", "netns", "add", name);
        _namespaces.Add(name);
    }

    private static void Run(params string[] command)
    {
        var (ok, output) = TryRun(command);
        if (!ok)
        {
            throw new InvalidOperationException($"'{string.Join(' ', command)}' failed: {output}");
        }
    }

    private static (bool Ok, string Output) TryRun(params string[] command)
    {
        try
        {
            var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in command.Skip(1))
            {
                info.ArgumentList.Add(argument);
            }

            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode == 0, output);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (false, e.Message);
        }
    }
}
