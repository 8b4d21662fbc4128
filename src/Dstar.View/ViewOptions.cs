using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Dstar.View;

/// <summary>
/// Where and how the view listens, as given on the command line. <see cref="Resolve"/> checks the safety rules in one
/// place: a loopback address may use plain HTTP and no token; any other address needs TLS (a PEM certificate and key,
/// an https:// URL) and a bearer token, or it is refused.
/// </summary>
/// <param name="Url">The listen URL (default <see cref="DefaultUrl"/>).</param>
/// <param name="Token">The bearer token (<c>--view-token</c>), or null.</param>
/// <param name="TokenFile">A file whose first line is the token (<c>--view-token-file</c>), or null.</param>
/// <param name="CertificatePath">PEM certificate for TLS (<c>--view-cert</c>), or null.</param>
/// <param name="KeyPath">PEM private key of the certificate (<c>--view-key</c>), or null.</param>
public sealed record ViewOptions(
    string Url = ViewOptions.DefaultUrl,
    string? Token = null,
    string? TokenFile = null,
    string? CertificatePath = null,
    string? KeyPath = null)
{
    /// <summary>http://127.0.0.1:8090: loopback, so nothing is reachable from another host.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8090";

    /// <summary>Tokens shorter than this are refused: a token is the only thing between the network and the page.</summary>
    public const int MinimumTokenLength = 16;

    /// <summary>Checks the options and loads the token and certificate.</summary>
    /// <exception cref="ArgumentException">a rule is broken; the message names the option and the value.</exception>
    public ViewEndpoint Resolve()
    {
        if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https")
            || uri.AbsolutePath != "/" || !string.IsNullOrEmpty(uri.Query))
        {
            throw new ArgumentException($"--view '{Url}': expected http://HOST:PORT or https://HOST:PORT (HOST an IP address or localhost)");
        }

        if (!IsLoopback(uri.Host) && !IPAddress.TryParse(uri.Host.Trim('[', ']'), out _))
        {
            throw new ArgumentException($"--view '{Url}': HOST must be an IP address to listen on (0.0.0.0 for every interface) or localhost, got '{uri.Host}'");
        }

        if (Token is not null && TokenFile is not null)
        {
            throw new ArgumentException("--view-token and --view-token-file exclude each other; give one");
        }

        string? token = Token;
        if (TokenFile is not null)
        {
            if (!File.Exists(TokenFile))
            {
                throw new ArgumentException($"--view-token-file '{TokenFile}': no such file");
            }

            token = File.ReadLines(TokenFile).FirstOrDefault()?.Trim() ?? "";
        }

        if (token is not null && (token.Length < MinimumTokenLength || token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))))
        {
            throw new ArgumentException($"--view-token: a token needs at least {MinimumTokenLength} characters and no spaces, got {token.Length} characters");
        }

        bool loopback = IsLoopback(uri.Host);
        bool tls = CertificatePath is not null || KeyPath is not null;
        if (tls && (CertificatePath is null || KeyPath is null))
        {
            throw new ArgumentException("TLS needs both --view-cert FILE and --view-key FILE (PEM)");
        }

        if (!loopback && (!tls || token is null || uri.Scheme != "https"))
        {
            throw new ArgumentException(
                $"--view '{Url}' is refused: '{uri.Host}' is not a loopback address, and a view reachable from other hosts needs TLS "
                + "(an https:// URL with --view-cert and --view-key) and a bearer token (--view-token or --view-token-file); "
                + "without them, use the default " + DefaultUrl);
        }

        if (tls != (uri.Scheme == "https"))
        {
            throw new ArgumentException(tls
                ? $"--view '{Url}': with --view-cert/--view-key the URL must be https://"
                : $"--view '{Url}': an https:// URL needs --view-cert FILE and --view-key FILE (PEM)");
        }

        X509Certificate2? certificate = null;
        if (tls)
        {
            foreach (var (option, path) in new[] { ("--view-cert", CertificatePath!), ("--view-key", KeyPath!) })
            {
                if (!File.Exists(path))
                {
                    throw new ArgumentException($"{option} '{path}': no such file");
                }
            }

            try
            {
                certificate = X509Certificate2.CreateFromPemFile(CertificatePath!, KeyPath!);
            }
            catch (System.Security.Cryptography.CryptographicException e)
            {
                throw new ArgumentException($"--view-cert '{CertificatePath}' / --view-key '{KeyPath}': not a PEM certificate and its key ({e.Message.Trim()})");
            }
        }

        return new ViewEndpoint(uri, token, certificate);
    }

    /// <summary>True for localhost and loopback IP literals (127.0.0.0/8, ::1).</summary>
    public static bool IsLoopback(string host)
    {
        host = host.Trim('[', ']');
        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
    }
}

/// <summary>Checked view options: the URL, the token every request must carry (null: none), the TLS certificate (null: plain HTTP).</summary>
/// <param name="Uri">The listen URL.</param>
/// <param name="Token">The bearer token, or null on a loopback address without one.</param>
/// <param name="Certificate">The TLS certificate with its key, or null.</param>
public sealed record ViewEndpoint(Uri Uri, string? Token, X509Certificate2? Certificate);
