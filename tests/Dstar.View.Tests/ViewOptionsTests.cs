using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Dstar.View.Tests;

public class ViewOptionsTests
{
    private const string Token = "0123456789abcdef-token";

    [Theory]
    [InlineData("http://127.0.0.1:8090")]
    [InlineData("http://localhost:9000")]
    [InlineData("http://[::1]:8090")]
    public void Loopback_address_needs_neither_tls_nor_token(string url)
    {
        var endpoint = new ViewOptions(url).Resolve();
        Assert.Null(endpoint.Token);
        Assert.Null(endpoint.Certificate);
    }

    [Theory]
    [InlineData("http://0.0.0.0:8090")]
    [InlineData("http://192.168.1.5:8090")]
    public void Non_loopback_address_without_tls_is_refused_even_with_a_token(string url)
    {
        var e = Assert.Throws<ArgumentException>(() => new ViewOptions(url, Token: Token).Resolve());
        Assert.Contains("not a loopback address", e.Message);
        Assert.Contains("--view-cert", e.Message);
    }

    [Fact]
    public void Non_loopback_address_with_tls_but_no_token_is_refused()
    {
        using var files = new TempDirectory();
        var (cert, key) = WritePem(files);
        var e = Assert.Throws<ArgumentException>(() => new ViewOptions("https://0.0.0.0:8090", CertificatePath: cert, KeyPath: key).Resolve());
        Assert.Contains("bearer token", e.Message);
    }

    [Fact]
    public void Non_loopback_address_with_tls_and_token_is_accepted()
    {
        using var files = new TempDirectory();
        var (cert, key) = WritePem(files);
        var tokenFile = files.Combine("token");
        File.WriteAllText(tokenFile, Token + "\n");
        var endpoint = new ViewOptions("https://0.0.0.0:8090", TokenFile: tokenFile, CertificatePath: cert, KeyPath: key).Resolve();
        Assert.Equal(Token, endpoint.Token);
        Assert.NotNull(endpoint.Certificate);
    }

    [Theory]
    [InlineData("ftp://127.0.0.1:8090", "expected http://HOST:PORT")]
    [InlineData("http://127.0.0.1:8090/sub", "expected http://HOST:PORT")]
    [InlineData("http://example.org:8090", "HOST must be an IP address")]
    [InlineData("https://127.0.0.1:8090", "needs --view-cert")]
    public void Bad_url_is_refused_with_its_value(string url, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => new ViewOptions(url).Resolve());
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Short_token_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new ViewOptions(Token: "short").Resolve());
        Assert.Contains("at least 16 characters", e.Message);
    }

    [Fact]
    public void Token_and_token_file_exclude_each_other()
    {
        var e = Assert.Throws<ArgumentException>(() => new ViewOptions(Token: Token, TokenFile: "x").Resolve());
        Assert.Contains("exclude each other", e.Message);
    }

    [Fact]
    public void Missing_certificate_file_is_named()
    {
        var e = Assert.Throws<ArgumentException>(() => new ViewOptions("https://127.0.0.1:8090", CertificatePath: "/nonexistent/c.pem", KeyPath: "/nonexistent/k.pem").Resolve());
        Assert.Contains("/nonexistent/c.pem", e.Message);
    }

    /// <summary>A self-signed certificate for 127.0.0.1, written as PEM files.</summary>
    internal static (string Certificate, string Key) WritePem(TempDirectory directory)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=dstar view test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var cert = directory.Combine("view.crt");
        var key = directory.Combine("view.key");
        File.WriteAllText(cert, certificate.ExportCertificatePem());
        File.WriteAllText(key, rsa.ExportPkcs8PrivateKeyPem());
        return (cert, key);
    }
}
