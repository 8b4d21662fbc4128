using Dstar.Cluster.Configuration;
using Dstar.Cluster.Server;

namespace Dstar.Cluster.Tests;

public class SettingsTests
{
    private static ServerSettings Settings(string listen, bool insecure, string? cert = null) => new()
    {
        Config = new ClusterConfig(),
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

    [Fact]
    public void Config_refuses_unknown_keys_and_out_of_range_values_naming_them()
    {
        Assert.Contains("unknown config key 'kk'", Assert.Throws<FormatException>(() => ClusterConfig.FromValues(new Dictionary<string, string> { ["kk"] = "3" })).Message);
        Assert.Contains("k = 9", Assert.Throws<FormatException>(() => ClusterConfig.FromValues(new Dictionary<string, string> { ["workers"] = "4", ["k"] = "9" })).Message);
        Assert.Contains("'four' is not an integer", Assert.Throws<FormatException>(() => ClusterConfig.FromValues(new Dictionary<string, string> { ["workers"] = "four" })).Message);
        Assert.Contains("unknown rule", Assert.Throws<FormatException>(() => ClusterConfig.FromValues(new Dictionary<string, string> { ["rule"] = "nonsense" })).Message);
    }

    [Fact]
    public void Config_text_round_trips_with_overrides()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "workers: 5 # five\nk: 3\nrule: \"mean\"\nlearning-rate: 0.25\n");
            var config = ClusterConfig.Load(path, ["k=2", "rounds=7"]);
            Assert.Equal((5, 2, 7, 0.25), (config.Workers, config.K, config.Rounds, config.LearningRate));
            File.WriteAllText(path, config.ToText());
            Assert.Equal(config, ClusterConfig.Load(path));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
