using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Dstar.Cluster.Security;
using Xunit;
using static Dstar.Cli.Tests.Deployment.Manifests;

namespace Dstar.Cli.Tests.Deployment;

/// <summary>deploy/kubernetes/make-secrets.sh, run for real (bash, openssl and this build's dstar).</summary>
[Trait("Category", "Deployment")]
public sealed class SecretsScriptTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dstar-secrets-test-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void Made_worker_keys_pass_the_join_check_and_the_certificate_serves_the_Service_name()
    {
        var (exit, output) = MakeSecrets("--workers", "3", "--namespace", "ml", _directory);
        Assert.True(exit == 0, output);

        var secrets = Parse(File.ReadAllText(Path.Combine(_directory, "secrets.yaml")))
            .ToDictionary(s => Text(s, "metadata.name")!, s => Map(s, "data").ToDictionary(p => (string)p.Key, p => Convert.FromBase64String((string)p.Value)));
        Assert.Equal(["dstar-authorized-keys", "dstar-ca", "dstar-server-tls", "dstar-worker-keys"], secrets.Keys.Order());
        Assert.Equal(["worker-0.key", "worker-1.key", "worker-2.key"], secrets["dstar-worker-keys"].Keys.Order());

        // Each worker's private key signs a join challenge that the server's authorized-keys file verifies for that id only.
        using var authorized = AuthorizedKeys.Parse(Encoding.UTF8.GetString(secrets["dstar-authorized-keys"]["authorized_keys"]).Split('\n'));
        Assert.Equal([0, 1, 2], authorized.WorkerIds);
        var nonce = JoinChallenge.NewNonce();
        for (int id = 0; id < 3; id++)
        {
            using var key = ECDsa.Create();
            key.ImportFromPem(Encoding.UTF8.GetString(secrets["dstar-worker-keys"][$"worker-{id}.key"]));
            var signature = JoinChallenge.Sign(key, nonce, id, 1234);
            Assert.True(JoinChallenge.Verify(authorized.Find(id)!, nonce, id, 1234, signature));
            Assert.False(JoinChallenge.Verify(authorized.Find((id + 1) % 3)!, nonce, id, 1234, signature));
        }

        // The server certificate has its key, holds the in-cluster names of the Service, and chains to the CA workers get.
        using var certificate = X509Certificate2.CreateFromPem(
            Encoding.UTF8.GetString(secrets["dstar-server-tls"]["tls.crt"]), Encoding.UTF8.GetString(secrets["dstar-server-tls"]["tls.key"]));
        Assert.True(certificate.HasPrivateKey);
        Assert.True(certificate.MatchesHostname("dstar-ps"));
        Assert.True(certificate.MatchesHostname("dstar-ps.ml.svc.cluster.local"));
        Assert.False(certificate.MatchesHostname("dstar-ps.default.svc"));
        using var ca = X509CertificateLoader.LoadCertificate(secrets["dstar-ca"]["ca.crt"]);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(certificate), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
        Assert.False(secrets.Values.Any(s => s.ContainsKey("ca.key")), "the CA's private key stays out of the cluster");
    }

    [Fact]
    public void Existing_secrets_are_never_overwritten()
    {
        Assert.Equal(0, MakeSecrets("--workers", "1", _directory).Exit);
        var before = File.ReadAllText(Path.Combine(_directory, "keys", "worker-0.key"));

        var (exit, output) = MakeSecrets("--workers", "1", _directory);
        Assert.Equal(2, exit);
        Assert.Contains("secrets.yaml exists", output, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllText(Path.Combine(_directory, "keys", "worker-0.key")));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("three")]
    public void A_bad_worker_count_is_refused_with_its_value(string workers)
    {
        var (exit, output) = MakeSecrets("--workers", workers, _directory);
        Assert.Equal(2, exit);
        Assert.Contains($"--workers: '{workers}'", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_directory));
    }

    private static (int Exit, string Output) MakeSecrets(params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(PathOf("deploy/kubernetes/make-secrets.sh"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DSTAR"] = "dotnet " + Path.Combine(AppContext.BaseDirectory, "dstar.dll");
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "make-secrets.sh did not finish in 2 minutes");
        return (process.ExitCode, output + error.Result);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
