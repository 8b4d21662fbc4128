using System.Security.Cryptography;
using Dstar.Cluster.Security;

namespace Dstar.Cluster.Tests;

public class SecurityTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dstar-keys-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public void Keygen_writes_a_pkcs8_key_whose_public_half_is_the_printed_line()
    {
        var line = WorkerKey.WriteKeyPair(7, _directory);
        var keyText = File.ReadAllText(Path.Combine(_directory, "worker-7.key"));
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", keyText);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", File.ReadAllText(Path.Combine(_directory, "worker-7.pub")));
        using var key = WorkerKey.LoadPrivateKey(Path.Combine(_directory, "worker-7.key"));
        Assert.Equal($"7 {Convert.ToBase64String(key.ExportSubjectPublicKeyInfo())}", line);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_directory, "worker-7.key")));
        }

        using var keys = AuthorizedKeys.Parse([line]);
        Assert.Equal([7], keys.WorkerIds);
    }

    [Fact]
    public void Keygen_never_overwrites_an_existing_private_key()
    {
        WorkerKey.WriteKeyPair(1, _directory);
        var before = File.ReadAllText(Path.Combine(_directory, "worker-1.key"));
        var e = Assert.Throws<IOException>(() => WorkerKey.WriteKeyPair(1, _directory));
        Assert.Contains("already exists", e.Message);
        Assert.Equal(before, File.ReadAllText(Path.Combine(_directory, "worker-1.key")));
    }

    [Theory]
    [InlineData("0", "expected '<id> <base64")]
    [InlineData("x AAAA", "worker id 'x'")]
    [InlineData("-1 AAAA", "worker id '-1'")]
    [InlineData("3 not*base64", "not valid base64")]
    [InlineData("3 AAAA", "not an ECDSA P-256")]
    public void Authorized_keys_refuse_malformed_lines_naming_the_line(string line, string expected)
    {
        var e = Assert.Throws<FormatException>(() => AuthorizedKeys.Parse(["# comment", "", line], "keys.txt"));
        Assert.Contains("keys.txt:3", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Authorized_keys_refuse_a_duplicate_id_an_rsa_key_and_an_empty_file()
    {
        using var a = WorkerKey.Generate();
        using var b = WorkerKey.Generate();
        var duplicate = Assert.Throws<FormatException>(() =>
            AuthorizedKeys.Parse([$"2 {WorkerKey.PublicKeyBase64(a)}", $"2 {WorkerKey.PublicKeyBase64(b)}"]));
        Assert.Contains("listed twice", duplicate.Message);

        using var rsa = RSA.Create(2048);
        var wrongAlgorithm = Assert.Throws<FormatException>(() => AuthorizedKeys.Parse([$"0 {Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo())}"]));
        Assert.Contains("not an ECDSA P-256", wrongAlgorithm.Message);

        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var wrongCurve = Assert.Throws<FormatException>(() => AuthorizedKeys.Parse([$"0 {Convert.ToBase64String(p384.ExportSubjectPublicKeyInfo())}"]));
        Assert.Contains("384-bit", wrongCurve.Message);

        var empty = Assert.Throws<FormatException>(() => AuthorizedKeys.Parse(["# nobody"]));
        Assert.Contains("no worker keys", empty.Message);
    }

    [Fact]
    public void Challenge_signature_verifies_only_for_the_same_nonce_id_time_and_key()
    {
        using var worker = WorkerKey.Generate();
        using var other = WorkerKey.Generate();
        using var registered = ECDsa.Create();
        registered.ImportSubjectPublicKeyInfo(worker.ExportSubjectPublicKeyInfo(), out _);
        var nonce = JoinChallenge.NewNonce();
        const long time = 1_700_000_000_000;
        var signature = JoinChallenge.Sign(worker, nonce, 4, time);

        Assert.True(JoinChallenge.Verify(registered, nonce, 4, time, signature));
        Assert.False(JoinChallenge.Verify(registered, JoinChallenge.NewNonce(), 4, time, signature)); // replay on a new challenge
        Assert.False(JoinChallenge.Verify(registered, nonce, 5, time, signature)); // same signature, another id
        Assert.False(JoinChallenge.Verify(registered, nonce, 4, time + 1, signature));
        Assert.False(JoinChallenge.Verify(registered, nonce, 4, time, JoinChallenge.Sign(other, nonce, 4, time))); // forged with another key
        Assert.False(JoinChallenge.Verify(registered, nonce, 4, time, []));
    }

    [Fact]
    public void Loading_a_public_key_or_garbage_as_the_private_key_fails_with_the_file_name()
    {
        Directory.CreateDirectory(_directory);
        WorkerKey.WriteKeyPair(0, _directory);
        var pub = Path.Combine(_directory, "worker-0.pub");
        Assert.Contains("worker-0.pub", Assert.Throws<InvalidDataException>(() => WorkerKey.LoadPrivateKey(pub)).Message);
        var garbage = Path.Combine(_directory, "garbage.key");
        File.WriteAllText(garbage, "hello");
        Assert.Contains("garbage.key", Assert.Throws<InvalidDataException>(() => WorkerKey.LoadPrivateKey(garbage)).Message);
        Assert.Throws<FileNotFoundException>(() => WorkerKey.LoadPrivateKey(Path.Combine(_directory, "missing.key")));
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
