using Dstar.Cluster.Configuration;
using Dstar.Engine.Configuration;

namespace Dstar.Cluster.Worker;

/// <summary>What <c>dstar work</c> was asked to do.</summary>
public sealed record WorkerSettings
{
    /// <summary>The server URL (https://HOST:PORT, or http:// for a loopback server run with --insecure).</summary>
    public required string Server { get; init; }

    /// <summary>This worker's id (its data shard and its authorized-keys line).</summary>
    public required int WorkerId { get; init; }

    /// <summary>The PKCS#8 PEM private key file.</summary>
    public required string KeyPath { get; init; }

    /// <summary>The run's config (data, model, shard, delay model, Byzantine role).</summary>
    public required ExperimentConfig Config { get; init; }

    /// <summary>How virtual delays become real sleeps.</summary>
    public RealTimeOptions RealTime { get; init; } = new();

    /// <summary>PEM CA certificate the server's TLS certificate must chain to (null: the system trust store).</summary>
    public string? CaCertificatePath { get; init; }

    /// <summary>How long to keep trying to (re)connect before giving up.</summary>
    public TimeSpan RetryFor { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The longest <see cref="RetryFor"/> accepted: one week.</summary>
    public static readonly TimeSpan MaxRetryFor = TimeSpan.FromDays(7);

    /// <summary>Refuses settings that cannot work, before any file or connection is opened.</summary>
    /// <exception cref="ArgumentException">the problem, naming the option and the value.</exception>
    public void Validate()
    {
        // Checked here, not left to gRPC: its errors ("Invalid URI: ...", "No address resolver configured for the
        // scheme 'ftp'") name neither the option nor the value.
        if (!Uri.TryCreate(Server, UriKind.Absolute, out var server) || (server.Scheme != Uri.UriSchemeHttp && server.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(server.Host))
        {
            throw new ArgumentException($"--server '{Server}': expected the server's URL, https://HOST:PORT (http:// for a loopback server run with --insecure)");
        }

        if (Configuration.UrlParts.Beyond(server) is { } extra)
        {
            // gRPC calls go to /dstar.Parameters/...: a path prefix would be dropped without a word.
            throw new ArgumentException($"--server '{Server}': expected the server's URL, https://HOST:PORT, without {extra}: gRPC calls go to the root of the server's address");
        }

        if (WorkerId < 0 || WorkerId >= Config.Workers)
        {
            throw new ArgumentException($"--id {WorkerId}: must be in 0..{Config.Workers - 1}, the worker ids of this config (workers = {Config.Workers})");
        }

        if (RetryFor < TimeSpan.Zero || RetryFor > MaxRetryFor)
        {
            throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"--retry-seconds {RetryFor.TotalSeconds}: must be in 0..{MaxRetryFor.TotalSeconds} (one week)"));
        }

        RealTime.Validate();
    }
}
