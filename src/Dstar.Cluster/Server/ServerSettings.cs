using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dstar.Cluster.Configuration;
using Dstar.Cluster.Security;
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

    /// <summary>More sinks of the run (the live view of <c>--view</c>).</summary>
    public IReadOnlyList<Dstar.Engine.Recording.IRunSink> ExtraSinks { get; init; } = [];

    /// <summary>Told of worker joins and leaves, arrivals and refusals (the live view's cluster panel); null: nobody.</summary>
    public Observability.IClusterMonitor? Monitor { get; init; }

    /// <summary>
    /// Awaited once every check has passed (the settings, the keys, a resume's checkpoint) and just before the server
    /// listens: <c>dstar serve --view</c> starts its live view here, so that a refused start shows nothing but its error.
    /// </summary>
    public Func<CancellationToken, Task>? BeforeListeningAsync { get; init; }

    /// <summary>Write logs as JSON lines instead of text.</summary>
    public bool JsonLogs { get; init; }

    /// <summary>An extra plain HTTP/1.1 listener for /metrics and /healthz (for scrapers that do not speak h2c); null for none.</summary>
    public string? MetricsListen { get; init; }

    /// <summary>
    /// The listen URI, parsed; an IPv4 address written as IPv6 (<c>[::ffff:127.0.0.1]</c>) becomes the IPv4 address,
    /// which is what a socket can bind to.
    /// </summary>
    public Uri ListenUri => Normalized(new Uri(Listen));

    /// <summary>
    /// Refuses inconsistent settings with the reason, checking the files they name (the TLS certificate and key load;
    /// the authorized keys cover enough of this run's workers for a round to complete).
    /// </summary>
    /// <returns>Warnings: settings that work but probably not as meant (for example fewer keys than k, where a deadline still closes rounds).</returns>
    /// <exception cref="ArgumentException">the problem, naming the option.</exception>
    /// <exception cref="FileNotFoundException">a file named by an option does not exist.</exception>
    /// <exception cref="IOException">a file named by an option is a directory, or --checkpoint-dir is a file.</exception>
    /// <exception cref="InvalidDataException">a certificate or key file does not load; the message names it.</exception>
    /// <exception cref="FormatException">the authorized-keys file is malformed.</exception>
    public IReadOnlyList<string> Validate()
    {
        var warnings = new List<string>();
        ValidateListen();
        if (!Insecure)
        {
            CheckCertificate();
        }

        using var keys = AuthorizedKeys.Load(AuthorizedKeysPath);
        var covered = keys.WorkerIds.Count(id => id < Config.Workers);
        if (keys.WorkerIds.Where(id => id >= Config.Workers).Order().ToList() is { Count: > 0 } outside)
        {
            // Likely a key file of another run, or workers lowered without it: those workers would only learn at their join.
            warnings.Add($"--authorized-keys '{AuthorizedKeysPath}' lists worker id{(outside.Count > 1 ? "s" : "")} {string.Join(", ", outside.Take(10))}{(outside.Count > 10 ? ", ..." : "")} "
                         + $"outside this run's 0..{Config.Workers - 1} (workers = {Config.Workers}): a worker with such an id is refused when it joins");
        }

        // With k: auto the first round waits for k_max (KCapacity), so that is the k every key count is checked against.
        int k = Config.KCapacity;
        if (covered < k)
        {
            int kMin = Config.KMin ?? (k + 1) / 2 + 1;
            var what = $"--authorized-keys '{AuthorizedKeysPath}' lists {covered} of this run's {Config.Workers} worker ids (0..{Config.Workers - 1}), fewer than {(Config.AutoK ? "k_max" : "k")} = {k}";
            if (Config.Deadline is null || covered < Math.Min(kMin, k))
            {
                throw new ArgumentException($"{what}: no round could ever complete; add keys (dstar keygen) or lower k");
            }

            warnings.Add($"{what}: every round will wait for its deadline ({Config.Deadline} s) and close with at most {covered} gradients (k_min = {kMin})");
        }

        return warnings;
    }

    private void CheckCertificate()
    {
        foreach (var (option, path) in new[] { ("--tls-cert", TlsCertificatePath!), ("--tls-key", TlsKeyPath!) })
        {
            Configuration.OptionFiles.RequireFile($"{option} '{path}'", path);
        }

        try
        {
            using var certificate = X509Certificate2.CreateFromPemFile(TlsCertificatePath!, TlsKeyPath!);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or IOException)
        {
            throw new InvalidDataException(
                $"--tls-cert '{TlsCertificatePath}' with --tls-key '{TlsKeyPath}' does not load as a PEM certificate and its private key: {e.Message.ReplaceLineEndings(" ").Trim()}", e);
        }
    }

    private static Uri Normalized(Uri uri)
    {
        if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && address.IsIPv4MappedToIPv6)
        {
            return new UriBuilder(uri) { Host = address.MapToIPv4().ToString() }.Uri;
        }

        return uri;
    }

    private void ValidateListen()
    {
        if (!Uri.TryCreate(Listen, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https") || uri.Port <= 0)
        {
            throw new ArgumentException($"--listen '{Listen}': expected http(s)://HOST:PORT.");
        }

        if (UrlParts.Beyond(uri) is { } extra)
        {
            throw new ArgumentException($"--listen '{Listen}': expected http(s)://HOST:PORT, without {extra}: the server answers at the root of its address");
        }

        uri = Normalized(uri);
        Uri? metrics = null;
        if (MetricsListen is not null
            && (!Uri.TryCreate(MetricsListen, UriKind.Absolute, out metrics) || metrics.Scheme != "http" || metrics.Port <= 0))
        {
            throw new ArgumentException($"--metrics-listen '{MetricsListen}': expected http://HOST:PORT.");
        }

        if (metrics is not null && UrlParts.Beyond(metrics) is { } metricsExtra)
        {
            throw new ArgumentException($"--metrics-listen '{MetricsListen}': expected http://HOST:PORT, without {metricsExtra}: /metrics and /healthz are served at the root of its address");
        }

        if (metrics is not null && metrics.Port == uri.Port && Overlap(uri.Host, Normalized(metrics).Host))
        {
            // Kestrel would fail on the second bind with "address already in use", which reads as another process on --listen's port.
            throw new ArgumentException(
                $"--metrics-listen '{MetricsListen}' takes the port of --listen '{Listen}': give it a port of its own (/metrics and /healthz are served on --listen too).");
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

        if (CheckpointDirectory is not null && File.Exists(CheckpointDirectory))
        {
            throw new IOException($"--checkpoint-dir '{CheckpointDirectory}' is a file, not a directory");
        }

        if (CheckpointDirectory is not null && !Directory.Exists(CheckpointDirectory))
        {
            throw new DirectoryNotFoundException($"--checkpoint-dir '{CheckpointDirectory}' does not exist; create it first");
        }

        if (Resume && CheckpointDirectory is null && OutputDirectory is null)
        {
            throw new ArgumentException("--resume needs --checkpoint-dir or --out (where checkpoint.bin is).");
        }
    }

    /// <summary>
    /// Whether listening on <paramref name="first"/> and <paramref name="second"/> at one port would collide: a wildcard
    /// address (0.0.0.0, ::) or a host name other than localhost (listened on as every address) on either side, or a
    /// shared address (localhost is 127.0.0.1 and ::1).
    /// </summary>
    private static bool Overlap(string first, string second)
    {
        static IPAddress[]? Addresses(string host)
        {
            if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
            {
                return [IPAddress.Loopback, IPAddress.IPv6Loopback];
            }

            return IPAddress.TryParse(host.Trim('[', ']'), out var address) && !address.Equals(IPAddress.Any) && !address.Equals(IPAddress.IPv6Any)
                ? [address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address]
                : null; // every address
        }

        return Addresses(first) is not { } one || Addresses(second) is not { } other || one.Intersect(other).Any();
    }

    /// <summary>True for localhost and loopback IP literals.</summary>
    public static bool IsLoopback(string host)
    {
        host = host.Trim('[', ']');
        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address));
    }
}
