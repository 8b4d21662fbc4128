using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Dstar.Cluster.Worker;

/// <summary>
/// A worker's check of the server's TLS certificate that remembers why it refused one, so that a failed handshake can
/// be told apart: a certificate that does not chain to the trusted CA, one that does not name the host connected to,
/// or no certificate checked at all (the server does not speak TLS: an <c>https://</c> worker in front of a server
/// started with <c>--insecure</c>). Each needs a different fix, and the worker's message names the one that applies.
/// </summary>
/// <param name="ca">The private CA the certificate must chain to (<c>--ca-cert</c>), or null for the system trust store.</param>
public sealed class ServerCertificateCheck(X509Certificate2? ca)
{
    /// <summary>The errors of the last certificate refused, as an int for atomic access; −1 while none was.</summary>
    private int _refused = -1;

    /// <summary>1 once a certificate came to be checked.</summary>
    private int _seen;

    /// <summary>Whether the server ever presented a certificate to this check (accepted or not).</summary>
    public bool Seen => Volatile.Read(ref _seen) == 1;

    /// <summary>The errors of the last certificate this check refused, or null when it refused none (or never saw one).</summary>
    public SslPolicyErrors? Refused => Volatile.Read(ref _refused) is var refused and >= 0 ? (SslPolicyErrors)refused : null;

    /// <summary>The <see cref="RemoteCertificateValidationCallback"/>: accepts a certificate only without errors (see <see cref="Judge"/>).</summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        Volatile.Write(ref _seen, 1);
        var remaining = Judge(ca, certificate, errors);
        if (remaining != SslPolicyErrors.None)
        {
            Volatile.Write(ref _refused, (int)remaining);
        }

        return remaining == SslPolicyErrors.None;
    }

    /// <summary>
    /// What is wrong with a certificate: with <paramref name="ca"/>, the platform's chain errors are replaced by whether
    /// the certificate chains to that CA (revocation is not checked: a private CA publishes no lists); every other error
    /// (a certificate that does not name the host, or none at all) stands. <see cref="SslPolicyErrors.None"/>: accept it.
    /// </summary>
    public static SslPolicyErrors Judge(X509Certificate2? ca, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return errors | SslPolicyErrors.RemoteCertificateNotAvailable;
        }

        if (ca is null)
        {
            return errors;
        }

        var remaining = errors & ~SslPolicyErrors.RemoteCertificateChainErrors;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var received = new X509Certificate2(certificate);
        return chain.Build(received) ? remaining : remaining | SslPolicyErrors.RemoteCertificateChainErrors;
    }

    /// <summary>
    /// Says why the TLS handshake with <paramref name="server"/> failed, given the CA option the worker was started
    /// with and the handshake's <paramref name="failure"/>, as one sentence that names the fix.
    /// </summary>
    public string Explain(string server, string? caCertificatePath, Exception failure)
    {
        if (!Seen)
        {
            return $"the TLS handshake with server {server} failed before any certificate came ({Innermost(failure)}): "
                + "is the server serving TLS? A server started with --insecure speaks plain HTTP/2: reach it with http://";
        }

        if (Refused is not { } errors)
        {
            return $"the TLS handshake with server {server} failed after its certificate was accepted: {Innermost(failure)}";
        }

        var problems = new List<string>();
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            problems.Add("it sent no certificate");
        }

        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            var host = Uri.TryCreate(server, UriKind.Absolute, out var uri) ? uri.IdnHost : server;
            problems.Add($"its certificate does not name the host '{host}': connect by a host name or IP address the certificate lists");
        }

        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
        {
            problems.Add(caCertificatePath is null
                ? "its certificate does not chain to the system trust store; pass --ca-cert with the CA certificate that signed it"
                : $"its certificate does not chain to --ca-cert '{caCertificatePath}'");
        }

        return $"the TLS certificate of server {server} is not trusted: {string.Join("; and ", problems)}";
    }

    /// <summary>The message of the innermost exception of <paramref name="failure"/> (following gRPC's debug exception).</summary>
    private static string Innermost(Exception failure) => WorkerConnection.Causes(failure).Last().Message.ReplaceLineEndings(" ").Trim();
}
