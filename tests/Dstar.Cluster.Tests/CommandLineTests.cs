using System.Net.Sockets;
using Dstar.Cluster.Security;
using Dstar.Cluster.Wire;

namespace Dstar.Cluster.Tests;

/// <summary>The cluster commands as a user runs them.</summary>
[Trait("Category", "Cluster")]
public class CommandLineTests
{
    [Fact]
    public async Task Keygen_prints_the_authorized_keys_line_and_serve_refuses_insecure_on_a_public_address()
    {
        using var fixture = new ClusterFixture(ClusterFixture.Yaml(workers: 2, k: 1, rounds: 1, samples: 100, features: 3));
        var directory = Path.Combine(fixture.Directory, "new-keys");
        using (var keygen = DstarProcess.Start(["keygen", "--id", "12", "--out", directory]))
        {
            Assert.Equal(0, await keygen.WaitAsync(TimeSpan.FromSeconds(30)));
            var line = keygen.Output.Trim();
            Assert.StartsWith("12 ", line);
            using var keys = AuthorizedKeys.Parse([line]);
            using var key = WorkerKey.LoadPrivateKey(Path.Combine(directory, "worker-12.key"));
            Assert.Equal(WorkerKey.PublicKeyBase64(key), line[3..]);
        }

        using (var serve = DstarProcess.Start(["serve", "--config", fixture.ConfigPath, "--listen", "http://0.0.0.0:7999",
                   "--authorized-keys", fixture.AuthorizedKeysPath, "--insecure"]))
        {
            Assert.Equal(2, await serve.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains("--insecure is refused on '0.0.0.0'", serve.Output);
        }

        File.WriteAllText(fixture.AuthorizedKeysPath, "0 not-base64!\n");
        using (var serve = DstarProcess.Start(["serve", "--config", fixture.ConfigPath, "--listen", fixture.Url,
                   "--authorized-keys", fixture.AuthorizedKeysPath, "--insecure"]))
        {
            Assert.Equal(3, await serve.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains("authorized_keys:1: the key of worker 0 is not valid base64", serve.Output);
        }
    }

    [Fact]
    public async Task Serve_logs_a_bad_upload_token_with_its_peer_once_and_sums_up_the_peers_repeats()
    {
        using var fixture = new ClusterFixture(ClusterFixture.Yaml(workers: 2, k: 1, rounds: 1, samples: 300, features: 3));
        using var serve = DstarProcess.Start(fixture.ServeArguments());
        serve.WaitForLine("serving 2 workers", TimeSpan.FromSeconds(60));

        // Six openings with tokens no session holds, each followed at once by a half-close.
        for (var i = 0; i < 6; i++)
        {
            using var client = new TcpClient();
            await client.ConnectAsync(System.Net.IPAddress.Loopback, fixture.Port);
            var stream = client.GetStream();
            await stream.WriteAsync((byte[])[.. UploadFrames.Preface.ToArray(), .. System.Security.Cryptography.RandomNumberGenerator.GetBytes(UploadFrames.TokenLength)]);
            client.Client.Shutdown(SocketShutdown.Send);
            using var reader = new StreamReader(stream);
            Assert.StartsWith("refused: bad-token", await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20)));
        }

        serve.WaitForLine(@"refused upload connection from 127\.0\.0\.1:\d+: bad-token", TimeSpan.FromSeconds(20));
        serve.Terminate();
        Assert.Equal(143, await serve.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Single(serve.Output.Split('\n'), line => line.Contains("refused upload connection from", StringComparison.Ordinal));
        Assert.Contains("refused 5 more upload connections from 127.0.0.1 within 60 s of the one logged: bad-token × 5", serve.Output);
    }

    [Fact]
    public async Task Serve_stopped_without_out_or_checkpoint_dir_says_it_wrote_no_checkpoint()
    {
        using var fixture = new ClusterFixture(ClusterFixture.Yaml(workers: 2, k: 1, rounds: 1, samples: 300, features: 3));
        using var serve = DstarProcess.Start("serve", "--config", fixture.ConfigPath, "--listen", fixture.Url, "--authorized-keys", fixture.AuthorizedKeysPath,
            "--insecure");
        serve.WaitForLine("waiting for 1 workers", TimeSpan.FromSeconds(60));
        serve.Terminate();
        Assert.Equal(143, await serve.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("stopped at round 0; no checkpoint written (neither --out nor --checkpoint-dir was given)", serve.Output);
        Assert.DoesNotContain("checkpoint ./checkpoint.bin", serve.Output);
    }

    [Theory]
    [InlineData("ftp://127.0.0.1:7999")]
    [InlineData("ps.example:7999")]
    public async Task Work_refuses_a_server_that_is_not_an_http_url_naming_the_option(string server)
    {
        using var fixture = new ClusterFixture(ClusterFixture.Yaml(workers: 2, k: 1, rounds: 1, samples: 100, features: 3));
        using var work = DstarProcess.Start(["work", "--server", server, "--id", "0", "--key", fixture.KeyPath(0), "--config", fixture.ConfigPath]);
        Assert.Equal(2, await work.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains($"--server '{server}': expected the server's URL", work.Output);
    }
}
