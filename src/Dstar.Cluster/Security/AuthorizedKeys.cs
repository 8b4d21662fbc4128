using System.Security.Cryptography;

namespace Dstar.Cluster.Security;

/// <summary>
/// The server's registry of worker public keys. File format, one worker per line:
/// <c>&lt;id&gt; &lt;base64 DER SubjectPublicKeyInfo of an ECDSA P-256 key&gt;</c>. Blank lines and lines starting
/// with <c>#</c> are ignored; anything after the key on a line is a comment. Ids are unique, ≥ 0.
/// </summary>
public sealed class AuthorizedKeys : IDisposable
{
    private readonly Dictionary<int, ECDsa> _keys;

    private AuthorizedKeys(Dictionary<int, ECDsa> keys) => _keys = keys;

    /// <summary>The registered worker ids, ascending.</summary>
    public IReadOnlyList<int> WorkerIds => _keys.Keys.Order().ToArray();

    /// <summary>The public key of <paramref name="workerId"/>, or null when that id is not registered.</summary>
    public ECDsa? Find(int workerId) => _keys.GetValueOrDefault(workerId);

    /// <summary>Reads and validates an authorized-keys file.</summary>
    /// <exception cref="FileNotFoundException">the file does not exist.</exception>
    /// <exception cref="IOException">the path is a directory.</exception>
    /// <exception cref="FormatException">a line is malformed; the message names the file, line and problem.</exception>
    public static AuthorizedKeys Load(string path)
    {
        Configuration.OptionFiles.RequireFile($"Authorized-keys file '{path}'", path);
        return Parse(File.ReadAllLines(path), path);
    }

    /// <summary>Parses authorized-keys lines; <paramref name="source"/> names them in error messages.</summary>
    /// <exception cref="FormatException">a line is malformed, an id repeats, or no worker is listed.</exception>
    public static AuthorizedKeys Parse(IEnumerable<string> lines, string source = "authorized-keys")
    {
        var keys = new Dictionary<int, ECDsa>();
        var lineNumber = 0;
        try
        {
            foreach (var raw in lines)
            {
                lineNumber++;
                var line = raw.Trim();
                if (line.Length == 0 || line.StartsWith('#'))
                {
                    continue;
                }

                var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                string Where() => $"{source}:{lineNumber}";
                if (fields.Length < 2)
                {
                    throw new FormatException($"{Where()}: expected '<id> <base64 SubjectPublicKeyInfo>', got '{line}'.");
                }

                if (!int.TryParse(fields[0], out var id) || id < 0)
                {
                    throw new FormatException($"{Where()}: worker id '{fields[0]}' is not an integer from 0 to {int.MaxValue}.");
                }

                if (keys.ContainsKey(id))
                {
                    throw new FormatException($"{Where()}: worker id {id} is listed twice.");
                }

                byte[] der;
                try
                {
                    der = Convert.FromBase64String(fields[1]);
                }
                catch (FormatException)
                {
                    throw new FormatException($"{Where()}: the key of worker {id} is not valid base64.");
                }

                var key = ECDsa.Create();
                try
                {
                    key.ImportSubjectPublicKeyInfo(der, out var read);
                    if (read != der.Length)
                    {
                        throw new CryptographicException($"{der.Length - read} trailing bytes after the key");
                    }

                    if (key.KeySize != 256)
                    {
                        throw new CryptographicException($"a {key.KeySize}-bit key; dstar needs P-256");
                    }
                }
                catch (CryptographicException e)
                {
                    key.Dispose();
                    throw new FormatException($"{Where()}: the key of worker {id} is not an ECDSA P-256 SubjectPublicKeyInfo ({e.Message}).");
                }

                keys.Add(id, key);
            }

            if (keys.Count == 0)
            {
                throw new FormatException($"{source}: no worker keys listed; the server would refuse every worker.");
            }

            return new AuthorizedKeys(keys);
        }
        catch
        {
            foreach (var key in keys.Values)
            {
                key.Dispose();
            }

            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var key in _keys.Values)
        {
            key.Dispose();
        }

        _keys.Clear();
    }
}
