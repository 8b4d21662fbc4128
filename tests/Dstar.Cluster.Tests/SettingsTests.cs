using Dstar.Cluster.Configuration;
using Dstar.Engine.Configuration;
using Dstar.Cluster.Server;

namespace Dstar.Cluster.Tests;

public class SettingsTests
{
    private static ServerSettings Settings(string listen, bool insecure, string? cert = null) => new()
    {
        Config = new ExperimentConfig(),
        Listen = listen,
        AuthorizedKeysPath = "keys",
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
    public void Insecure_is_allowed_on_loopback(string listen) => Settings(listen, insecure: true).Validate();

    [Fact]
    public void Tls_is_required_unless_insecure()
    {
        var e = Assert.Throws<ArgumentException>(() => Settings("https://0.0.0.0:7070", insecure: false).Validate());
        Assert.Contains("--tls-cert", e.Message);
        Settings("https://0.0.0.0:7070", insecure: false, cert: "c.pem").Validate();
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
}
