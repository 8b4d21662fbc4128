using Dstar.Cluster.Configuration;
using Dstar.Engine.Configuration;
using Dstar.Cluster.Security;
using Dstar.Cluster.Server;
using Dstar.Cluster.Worker;

namespace Dstar.Cluster.Tests;

public class SettingsTests
{
    // One key for each of the default config's 20 workers, written once.
    private static readonly Lazy<string> AllKeys = new(() => KeysFile(20));

    // The key folders of this class, under one folder removed when the test process exits.
    private static readonly Lazy<string> KeysRoot = new(() => ProcessTemporaryFolder.Create("dstar-settings"));

    private static string KeysFile(int count)
    {
        var directory = Path.Combine(KeysRoot.Value, Guid.NewGuid().ToString("N")[..8]);
        var lines = Enumerable.Range(0, count).Select(id => WorkerKey.WriteKeyPair(id, directory)).ToArray();
        var path = Path.Combine(directory, "authorized_keys");
        File.WriteAllLines(path, lines);
        return path;
    }

    private static ServerSettings Settings(string listen, bool insecure, string? cert = null, string? keys = null, ExperimentConfig? config = null) => new()
    {
        Config = config ?? new ExperimentConfig(),
        Listen = listen,
        AuthorizedKeysPath = keys ?? AllKeys.Value,
        Insecure = insecure,
        TlsCertificatePath = cert,
        TlsKeyPath = cert,
    };

    [Theory]
    [InlineData("http://0.0.0.0:7070")]
    [InlineData("http://10.1.2.3:7070")]
    [InlineData("http://[::]:7070")]
    [InlineData("http://ps.example.org:7070")]
    public void Insecure_is_refused_on_any_non_loopback_address(string listen)
    {
        var e = Assert.Throws<ArgumentException>(() => Settings(listen, insecure: true).Validate());
        Assert.Contains("--insecure is refused", e.Message);
    }

    [Theory]
    [InlineData("http://127.0.0.1:7070")]
    [InlineData("http://127.0.0.9:7070")]
    [InlineData("http://localhost:7070")]
    [InlineData("http://[::1]:7070")]
    [InlineData("http://[::ffff:127.0.0.1]:7070")]
    public void Insecure_is_allowed_on_loopback(string listen) => Assert.Empty(Settings(listen, insecure: true).Validate());

    [Fact]
    public void An_ipv4_address_written_as_ipv6_listens_on_the_ipv4_address()
    {
        Assert.Equal("127.0.0.1", Settings("http://[::ffff:127.0.0.1]:7070", insecure: true).ListenUri.Host);
    }

    [Fact]
    public void Tls_is_required_unless_insecure()
    {
        var e = Assert.Throws<ArgumentException>(() => Settings("https://0.0.0.0:7070", insecure: false).Validate());
        Assert.Contains("--tls-cert", e.Message);
    }

    [Fact]
    public void A_missing_or_unreadable_tls_certificate_is_refused_naming_the_file()
    {
        var missing = Assert.Throws<FileNotFoundException>(() => Settings("https://0.0.0.0:7070", insecure: false, cert: "no-such-cert.pem").Validate());
        Assert.Equal("--tls-cert 'no-such-cert.pem' does not exist.", missing.Message);

        var junk = Path.Combine(Path.GetTempPath(), "dstar-junk-" + Guid.NewGuid().ToString("N")[..8] + ".pem");
        File.WriteAllText(junk, "not a certificate\n");
        try
        {
            var bad = Assert.Throws<InvalidDataException>(() => Settings("https://0.0.0.0:7070", insecure: false, cert: junk).Validate());
            Assert.StartsWith($"--tls-cert '{junk}' with --tls-key '{junk}' does not load", bad.Message);
        }
        finally
        {
            File.Delete(junk);
        }
    }

    [Fact]
    public void Authorized_keys_covering_fewer_than_k_workers_are_refused()
    {
        var config = new ExperimentConfig { Workers = 6, K = 4 };
        var e = Assert.Throws<ArgumentException>(() => Settings("http://127.0.0.1:7070", insecure: true, keys: KeysFile(3), config: config).Validate());
        Assert.Contains("lists 3 of this run's 6 worker ids (0..5), fewer than k = 4: no round could ever complete", e.Message);
    }

    [Fact]
    public void Authorized_keys_for_ids_outside_the_run_get_a_warning()
    {
        var config = new ExperimentConfig { Workers = 3, K = 2 };
        var keys = KeysFile(5);
        var warning = Assert.Single(Settings("http://127.0.0.1:7070", insecure: true, keys: keys, config: config).Validate());
        Assert.Equal($"--authorized-keys '{keys}' lists worker ids 3, 4 outside this run's 0..2 (workers = 3): a worker with such an id is refused when it joins", warning);
        Assert.Empty(Settings("http://127.0.0.1:7070", insecure: true, keys: KeysFile(3), config: config).Validate());
    }

    [Fact]
    public void Authorized_keys_covering_fewer_than_k_workers_only_warn_when_a_deadline_closes_rounds()
    {
        var config = new ExperimentConfig { Workers = 6, K = 4, Deadline = 2, KMin = 3 };
        var warning = Assert.Single(Settings("http://127.0.0.1:7070", insecure: true, keys: KeysFile(3), config: config).Validate());
        Assert.Contains("every round will wait for its deadline (2 s)", warning);
    }

    [Theory]
    [InlineData(-0.5, 0, "--delay-scale")]
    [InlineData(double.NaN, 0, "--delay-scale")]
    [InlineData(0.01, -1, "--compute-ms")]
    public void Real_time_options_refuse_negative_or_non_finite_values(double scale, int computeMilliseconds, string option)
    {
        var e = Assert.Throws<ArgumentException>(() => new RealTimeOptions { DelayScale = scale, ComputeMilliseconds = computeMilliseconds }.Validate());
        Assert.Contains(option, e.Message);
    }

    [Theory]
    [InlineData(9, 60, "--id 9: must be in 0..5, the worker ids of this config (workers = 6)")]
    [InlineData(-1, 60, "--id -1: must be in 0..5")]
    [InlineData(0, -5, "--retry-seconds -5: must be in 0..604800")]
    public void Worker_settings_refuse_an_id_outside_the_run_and_a_negative_retry_window(int id, double retrySeconds, string expected)
    {
        var settings = new WorkerSettings
        {
            Server = "http://127.0.0.1:7070",
            WorkerId = id,
            KeyPath = "k",
            Config = new ExperimentConfig { Workers = 6, K = 4 },
            RetryFor = TimeSpan.FromSeconds(retrySeconds),
        };
        var e = Assert.Throws<ArgumentException>(settings.Validate);
        Assert.StartsWith(expected, e.Message);
        Assert.DoesNotContain("Parameter", e.Message);
    }

    [Theory]
    [InlineData("ps.example:7070")]
    [InlineData("foo")]
    [InlineData("")]
    [InlineData("ftp://127.0.0.1:7070")]
    [InlineData("http://127.0.0.1:99999")]
    [InlineData("http://[::1")]
    [InlineData("unix:///tmp/dstar.sock")]
    public void Worker_settings_refuse_a_server_that_is_not_an_http_url(string server)
    {
        var settings = new WorkerSettings
        {
            Server = server,
            WorkerId = 0,
            KeyPath = "k",
            Config = new ExperimentConfig { Workers = 6, K = 4 },
        };
        var e = Assert.Throws<ArgumentException>(settings.Validate);
        Assert.StartsWith($"--server '{server}': expected the server's URL, https://HOST:PORT", e.Message);
    }

    [Theory]
    [InlineData("https://10.0.0.5:7070/grpc", "a path (/grpc)")]
    [InlineData("https://10.0.0.5:7070/?x=1", "a query (?x=1)")]
    [InlineData("https://10.0.0.5:7070/#f", "a fragment (#f)")]
    public void Worker_settings_refuse_a_server_url_with_more_than_host_and_port(string server, string extra)
    {
        var settings = new WorkerSettings { Server = server, WorkerId = 0, KeyPath = "k", Config = new ExperimentConfig { Workers = 6, K = 4 } };
        var e = Assert.Throws<ArgumentException>(settings.Validate);
        Assert.Equal($"--server '{server}': expected the server's URL, https://HOST:PORT, without {extra}: gRPC calls go to the root of the server's address", e.Message);

        // The root itself is the address: with or without its slash.
        (settings with { Server = "https://10.0.0.5:7070/" }).Validate();
    }

    [Fact]
    public void Listen_and_metrics_listen_with_a_path_are_refused_naming_the_option()
    {
        var listen = Assert.Throws<ArgumentException>(() => Settings("http://127.0.0.1:7070/dstar", insecure: true).Validate());
        Assert.Equal("--listen 'http://127.0.0.1:7070/dstar': expected http(s)://HOST:PORT, without a path (/dstar): the server answers at the root of its address", listen.Message);
        var metrics = Assert.Throws<ArgumentException>(() => (Settings("http://127.0.0.1:7070", insecure: true) with { MetricsListen = "http://127.0.0.1:9100/metrics" }).Validate());
        Assert.Equal("--metrics-listen 'http://127.0.0.1:9100/metrics': expected http://HOST:PORT, without a path (/metrics): /metrics and /healthz are served at the root of its address",
            metrics.Message);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void A_private_key_readable_by_others_gets_a_warning()
    {
        var directory = Path.Combine(Path.GetTempPath(), "dstar-keymode-" + Guid.NewGuid().ToString("N")[..8]);
        WorkerKey.WriteKeyPair(0, directory);
        var path = Path.Combine(directory, "worker-0.key");
        Assert.Null(WorkerKey.PermissionWarning(path));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Assert.Equal($"worker key '{path}' is accessible to other users (mode 0644); anyone who reads it can act as this worker: run chmod 600 '{path}'",
            WorkerKey.PermissionWarning(path));
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public void A_path_option_that_names_a_directory_says_so_rather_than_that_it_does_not_exist()
    {
        var directory = KeysRoot.Value;
        var cert = Assert.Throws<IOException>(() => Settings("https://0.0.0.0:7070", insecure: false, cert: directory).Validate());
        Assert.Equal($"--tls-cert '{directory}' is a directory, not a file.", cert.Message);
        var keys = Assert.Throws<IOException>(() => Settings("http://127.0.0.1:7070", insecure: true, keys: directory).Validate());
        Assert.Equal($"Authorized-keys file '{directory}' is a directory, not a file.", keys.Message);
        var ca = Assert.Throws<IOException>(() => WorkerConnection.LoadCaCertificate(directory));
        Assert.Equal($"--ca-cert '{directory}' is a directory, not a file.", ca.Message);
        var key = Assert.Throws<IOException>(() => WorkerKey.LoadPrivateKey(directory));
        Assert.Equal($"Worker key file '{directory}' is a directory, not a file.", key.Message);

        // And the other way round: a checkpoint directory that is a file.
        var checkpoints = Assert.Throws<IOException>(() => (Settings("http://127.0.0.1:7070", insecure: true) with { CheckpointDirectory = AllKeys.Value }).Validate());
        Assert.Equal($"--checkpoint-dir '{AllKeys.Value}' is a file, not a directory", checkpoints.Message);
    }

    [Fact]
    public void A_worker_id_too_large_for_the_authorized_keys_file_is_called_out_of_range()
    {
        var line = File.ReadLines(AllKeys.Value).First();
        var e = Assert.Throws<FormatException>(() => AuthorizedKeys.Parse(["99999999999" + line[line.IndexOf(' ')..]], "authorized_keys"));
        Assert.Equal("authorized_keys:1: worker id '99999999999' is not an integer from 0 to 2147483647.", e.Message);
    }

    [Theory]
    [InlineData("http://127.0.0.1:7070", "http://127.0.0.1:7070")]
    [InlineData("http://127.0.0.1:7070", "http://0.0.0.0:7070")]
    [InlineData("http://localhost:7070", "http://127.0.0.1:7070")]
    [InlineData("http://[::1]:7070", "http://localhost:7070")]
    [InlineData("http://[::ffff:127.0.0.1]:7070", "http://127.0.0.1:7070")]
    [InlineData("http://127.0.0.1:7070", "http://metrics.example:7070")]
    public void Metrics_listen_on_the_port_of_listen_is_refused_naming_both(string listen, string metricsListen)
    {
        var e = Assert.Throws<ArgumentException>(() => (Settings(listen, insecure: true) with { MetricsListen = metricsListen }).Validate());
        Assert.Equal($"--metrics-listen '{metricsListen}' takes the port of --listen '{listen}': give it a port of its own (/metrics and /healthz are served on --listen too).",
            e.Message);
    }

    [Theory]
    [InlineData("http://127.0.0.1:7070", "http://127.0.0.1:9100")]
    [InlineData("http://127.0.0.1:7070", "http://127.0.0.2:7070")]
    [InlineData("http://[::1]:7070", "http://127.0.0.1:7070")]
    public void Metrics_listen_on_another_port_or_address_is_allowed(string listen, string metricsListen) =>
        Assert.Empty((Settings(listen, insecure: true) with { MetricsListen = metricsListen }).Validate());
}
