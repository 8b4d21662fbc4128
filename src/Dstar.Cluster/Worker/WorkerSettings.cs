using Dstar.Cluster.Configuration;

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

    /// <summary>The run's config (shard, delay model, Byzantine role).</summary>
    public required ClusterConfig Config { get; init; }

    /// <summary>PEM CA certificate the server's TLS certificate must chain to (null: the system trust store).</summary>
    public string? CaCertificatePath { get; init; }

    /// <summary>How long to keep trying to (re)connect before giving up.</summary>
    public TimeSpan RetryFor { get; init; } = TimeSpan.FromSeconds(60);
}
