using System.Security.Cryptography;

namespace Dstar.Cluster.Security;

/// <summary>
/// A worker's ECDSA P-256 key pair (System.Security.Cryptography only). The private key is stored as a PKCS#8 PEM
/// file (<c>worker-N.key</c>); the public key travels as base64 SubjectPublicKeyInfo (one authorized-keys line).
/// </summary>
public static class WorkerKey
{
    /// <summary>Creates a fresh P-256 key pair.</summary>
    public static ECDsa Generate() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>The private key as PKCS#8 PEM (<c>-----BEGIN PRIVATE KEY-----</c>).</summary>
    public static string PrivateKeyPem(ECDsa key) => key.ExportPkcs8PrivateKeyPem();

    /// <summary>The public key as SubjectPublicKeyInfo PEM (<c>-----BEGIN PUBLIC KEY-----</c>).</summary>
    public static string PublicKeyPem(ECDsa key) => key.ExportSubjectPublicKeyInfoPem();

    /// <summary>The public key as base64 DER SubjectPublicKeyInfo, the form the authorized-keys file holds.</summary>
    public static string PublicKeyBase64(ECDsa key) => Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());

    /// <summary>
    /// Writes <c>worker-{id}.key</c> (PKCS#8 PEM, owner-only permissions where the OS has them) and
    /// <c>worker-{id}.pub</c> (SPKI PEM) into <paramref name="directory"/>, creating it if needed, and returns the
    /// authorized-keys line <c>{id} {base64 SPKI}</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">the id is negative.</exception>
    /// <exception cref="IOException">the key file already exists (never overwritten), or <paramref name="directory"/> is a file.</exception>
    public static string WriteKeyPair(int workerId, string directory)
    {
        if (workerId < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(workerId), workerId, "A worker id must be ≥ 0.");
        }

        if (File.Exists(directory))
        {
            throw new IOException($"'{directory}' is a file, not a directory: give the directory for worker-{workerId}.key and worker-{workerId}.pub");
        }

        Directory.CreateDirectory(directory);
        var keyPath = Path.Combine(directory, $"worker-{workerId}.key");
        var pubPath = Path.Combine(directory, $"worker-{workerId}.pub");
        if (File.Exists(keyPath))
        {
            throw new IOException($"'{keyPath}' already exists; refusing to overwrite a private key.");
        }

        using var key = Generate();
        // Create the private key file owner-only before writing the secret into it.
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(keyPath, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(PrivateKeyPem(key));
            writer.Write('\n');
        }

        File.WriteAllText(pubPath, PublicKeyPem(key) + "\n");
        return $"{workerId} {PublicKeyBase64(key)}";
    }

    /// <summary>
    /// A warning when the private key file may be read or written by users other than its owner (for example mode
    /// 0644), or null when it is owner-only or the OS has no Unix permissions. The key is still used: the warning
    /// says how to fix it.
    /// </summary>
    public static string? PermissionWarning(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        var mode = File.GetUnixFileMode(path);
        const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        return (mode & others) == 0
            ? null
            : $"worker key '{path}' is accessible to other users (mode {Convert.ToString((int)mode & 0x1FF, 8).PadLeft(4, '0')}); anyone who reads it can act as this worker: run chmod 600 '{path}'";
    }

    /// <summary>Loads a PKCS#8 PEM private key (as written by <see cref="WriteKeyPair"/>).</summary>
    /// <exception cref="FileNotFoundException">the file does not exist.</exception>
    /// <exception cref="IOException">the path is a directory.</exception>
    /// <exception cref="InvalidDataException">the file is not a P-256 PKCS#8 PEM private key.</exception>
    public static ECDsa LoadPrivateKey(string path)
    {
        Configuration.OptionFiles.RequireFile($"Worker key file '{path}'", path);

        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(path));
            if (key.KeySize != 256)
            {
                throw new InvalidDataException($"Worker key '{path}' is a {key.KeySize}-bit EC key; dstar needs P-256.");
            }

            // ExportParameters(true) fails for a public-only key, which cannot sign.
            key.ExportParameters(includePrivateParameters: true);
            return key;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new InvalidDataException($"Worker key '{path}' is not a PKCS#8 PEM ECDSA P-256 private key: {e.Message}", e);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }
}
