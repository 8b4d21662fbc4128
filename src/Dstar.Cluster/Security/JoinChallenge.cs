using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Dstar.Cluster.Security;

/// <summary>
/// The join challenge–response. The server sends a fresh 32-byte nonce and its clock; the worker signs
/// nonce ‖ worker id (int32 little-endian) ‖ server time (int64 little-endian, Unix ms) with ECDSA P-256 / SHA-256
/// (IEEE P1363 signature format). Binding the id into the signed bytes stops one worker from using its own valid
/// signature to join as another; the nonce, fresh per stream and never reused, stops replay.
/// </summary>
public static class JoinChallenge
{
    /// <summary>The nonce length in bytes.</summary>
    public const int NonceLength = 32;

    /// <summary>A fresh cryptographically random nonce.</summary>
    public static byte[] NewNonce() => RandomNumberGenerator.GetBytes(NonceLength);

    /// <summary>The exact bytes that are signed.</summary>
    /// <exception cref="ArgumentException">the nonce is not <see cref="NonceLength"/> bytes.</exception>
    public static byte[] Payload(ReadOnlySpan<byte> nonce, int workerId, long serverTimeUnixMilliseconds)
    {
        if (nonce.Length != NonceLength)
        {
            throw new ArgumentException($"A join nonce has {NonceLength} bytes, got {nonce.Length}.", nameof(nonce));
        }

        var payload = new byte[NonceLength + sizeof(int) + sizeof(long)];
        nonce.CopyTo(payload);
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(NonceLength), workerId);
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(NonceLength + sizeof(int)), serverTimeUnixMilliseconds);
        return payload;
    }

    /// <summary>The worker side: signs the challenge with its private key.</summary>
    public static byte[] Sign(ECDsa privateKey, ReadOnlySpan<byte> nonce, int workerId, long serverTimeUnixMilliseconds) =>
        privateKey.SignData(Payload(nonce, workerId, serverTimeUnixMilliseconds), HashAlgorithmName.SHA256,
            DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    /// <summary>The server side: true when <paramref name="signature"/> is the registered key's signature of this challenge.</summary>
    public static bool Verify(ECDsa publicKey, ReadOnlySpan<byte> nonce, int workerId, long serverTimeUnixMilliseconds,
        ReadOnlySpan<byte> signature)
    {
        if (nonce.Length != NonceLength || signature.Length == 0)
        {
            return false;
        }

        return publicKey.VerifyData(Payload(nonce, workerId, serverTimeUnixMilliseconds), signature,
            HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }
}
