using System.Net;
using Dstar.Engine.Configuration;

namespace Dstar.Cluster.Server;

/// <summary>What <c>dstar serve</c> was asked to do; checked by <see cref="Validate"/>.</summary>
public sealed record ServerSettings
{
    /// <summary>The run's config.</summary>
    public required ExperimentConfig Config { get; init; }

    /// <summary>Where to listen, e.g. <c>https://0.0.0.0:7070</c> or <c>http://127.0.0.1:7070</c>.</summary>
    public string Listen { get; init; } = "https://127.0.0.1:7070";

    /// <summary>The authorized-keys file.</summary>
    public required string AuthorizedKeysPath { get; init; }

    /// <summary>PEM certificate for TLS.</summary>
    public string? TlsCertificatePath { get; init; }

    /// <summary>PEM private key for TLS.</summary>
    public string? TlsKeyPath { get; init; }

    /// <summary>Plain-text HTTP/2 (h2c); only on a loopback address.</summary>
    public bool Insecure { get; init; }

    /// <summary>Where <c>checkpoint.bin</c> goes (null: the run directory; no checkpoints without either).</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>Continue from <c>checkpoint.bin</c> in the checkpoint (or run) directory, replaying the run directory's metrics.</summary>
    public bool Resume { get; init; }

    /// <summary>Move a run directory that holds a run aside (to DIR.old-TIMESTAMP) instead of refusing it.</summary>
    public bool Overwrite { get; init; }

    /// <summary>The run directory, as <c>dstar simulate</c> writes it (null: none).</summary>
    public string? OutputDirectory { get; init; }

    /// <summary>Write the run directory's PNG plots at the end, as <c>dstar simulate</c> does.</summary>
    public bool Plots { get; init; } = true;

    /// <summary>Write logs as JSON lines instead of text.</summary>
    public bool JsonLogs { get; init; }

    /// <summary>An extra plain HTTP/1.1 listener for /metrics and /healthz (for scrapers that do not speak h2c); null for none.</summary>
    public string? MetricsListen { get; init; }

    /// <summary>The listen URI, parsed.</summary>
    public Uri ListenUri => new(Listen);

    /// <summary>Refuses inconsistent settings with the reason.</summary>
    /// <exception cref="ArgumentException">the problem, naming the option.</exception>
    public void Validate()
    {
        if (!Uri.TryCreate(Listen, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https") || uri.Port <= 0)
        {
            throw new ArgumentException($"--listen '{Listen}': expected http(s)://HOST:PORT.");
        }

        if (Insecure)
        {
            if (TlsCertificatePath is not null || TlsKeyPath is not null)
            {
                throw new ArgumentException("--insecure and --tls-cert/--tls-key exclude each other.");
            }

            if (!IsLoopback(uri.Host))
            {
                throw new ArgumentException(
                    $"--insecure is refused on '{uri.Host}': plain-text gRPC is allowed only on a loopback address (127.0.0.1, ::1, localhost); use --tls-cert and --tls-key.");
            }

            if (uri.Scheme != "http")
            {
                throw new ArgumentException($"--insecure needs an http:// listen URL, got '{Listen}'.");
            }
        }
        else
        {
            if (TlsCertificatePath is null || TlsKeyPath is null)
            {
                throw new ArgumentException("TLS is on unless --insecure is given: pass --tls-cert FILE and --tls-key FILE (PEM).");
            }

            if (uri.Scheme != "https")
            {
                throw new ArgumentException($"with TLS the listen URL must be https://, got '{Listen}'.");
            }
        }

        if (Resume && Overwrite)
        {
            throw new ArgumentException("--resume and --overwrite exclude each other.");
        }

        if (Resume && CheckpointDirectory is null && OutputDirectory is null)
        {
            throw new ArgumentException("--resume needs --checkpoint-dir or --out (where checkpoint.bin is).");
        }
    }

    /// <summary>True for localhost and loopback IP literals.</summary>
    public static bool IsLoopback(string host)
    {
        host = host.Trim('[', ']');
        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
    }
}
