namespace Dstar.Cluster.Configuration;

/// <summary>What an address option (<c>--listen</c>, <c>--metrics-listen</c>, <c>--server</c>) holds beyond scheme, host and port.</summary>
internal static class UrlParts
{
    /// <summary>
    /// The part of <paramref name="url"/> after its host and port — a path other than <c>/</c>, a query or a fragment — as
    /// the user should read it (<c>a path (/grpc)</c>), or null when there is none. Kestrel binds and gRPC calls only the
    /// host and port, so anything more would be dropped without a word.
    /// </summary>
    public static string? Beyond(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (url.AbsolutePath != "/")
        {
            return $"a path ({url.AbsolutePath})";
        }

        if (url.Query.Length > 0)
        {
            return $"a query ({url.Query})";
        }

        return url.Fragment.Length > 0 ? $"a fragment ({url.Fragment})" : null;
    }
}
