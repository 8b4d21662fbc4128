using System.Net;
using System.Net.Sockets;

namespace Dstar.Cluster.Worker;

/// <summary>
/// Where a worker's connections to its server go: the server's name looked up with a time limit, and the last address
/// that accepted a connection kept for when a lookup fails or hangs.
/// </summary>
/// <remarks>
/// Why: while a podman <c>kube play</c> server pod restarts, its name stops resolving (<c>EAI_AGAIN</c>), and one
/// lookup could then hold a rejoining worker 30–40 s, past the channel's connect timeout, which does not cut the
/// lookup (docs/deploy.md). With this, each attempt gives the lookup <see cref="LookupTimeout"/>, then tries the
/// address that worked last, so the worker is back as soon as the server answers there. A server whose address
/// changed is reached once its name resolves again. An IP literal is never looked up.
/// </remarks>
public sealed class ServerAddresses
{
    /// <summary>How long one lookup of the server's name may take before the last working address is used instead.</summary>
    public static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(3);

    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _lookup;
    private readonly TimeSpan _timeout;
    private readonly Action<string>? _note;
    private IPAddress? _lastWorking;

    /// <summary>The addresses of <paramref name="host"/>.</summary>
    /// <param name="host">The server's host name or IP literal.</param>
    /// <param name="lookup">How names are looked up (default: <see cref="Dns.GetHostAddressesAsync(string, CancellationToken)"/>).</param>
    /// <param name="timeout">The lookup's limit (default <see cref="LookupTimeout"/>).</param>
    /// <param name="note">Told, in one line, each time a failed lookup is stood in for by the last working address.</param>
    public ServerAddresses(string host, Func<string, CancellationToken, Task<IPAddress[]>>? lookup = null, TimeSpan? timeout = null, Action<string>? note = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        Host = host.Trim('[', ']');
        _lookup = lookup ?? Dns.GetHostAddressesAsync;
        _timeout = timeout ?? LookupTimeout;
        _note = note;
    }

    /// <summary>The host name (or IP literal), without IPv6 brackets.</summary>
    public string Host { get; }

    /// <summary>The address that last accepted a connection, or null.</summary>
    public IPAddress? LastWorking => Volatile.Read(ref _lastWorking);

    /// <summary>The addresses to try, in order.</summary>
    /// <exception cref="SocketException">the lookup failed or timed out and no address has worked yet; the message names the host.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<IPAddress[]> ResolveAsync(CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(Host, out var literal))
        {
            return [literal];
        }

        var lookup = _lookup(Host, cancellationToken);
        try
        {
            var found = await lookup.WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);
            if (found.Length > 0)
            {
                return found;
            }
        }
        catch (Exception e) when (e is SocketException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            // An abandoned lookup may still fail later: observe it, so it is not reported as unobserved.
            _ = lookup.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            if (LastWorking is { } last)
            {
                _note?.Invoke($"the server name {Host} could not be looked up ({Reason(e)}); trying {last}, the address that worked last");
                return [last];
            }

            throw new SocketException((int)SocketError.HostNotFound, $"the server name {Host} could not be looked up ({Reason(e)}), and no address of it has worked yet");
        }

        return LastWorking is { } fallback ? [fallback] : throw new SocketException((int)SocketError.HostNotFound, $"the server name {Host} has no address");
    }

    /// <summary>Records <paramref name="address"/> as the one that accepted the latest connection.</summary>
    public void Worked(IPAddress address) => Volatile.Write(ref _lastWorking, address);

    /// <summary>
    /// Connects a TCP socket (no Nagle delay) to the first of the server's addresses that accepts, at
    /// <paramref name="port"/>, and records it: for the gRPC channel's <c>ConnectCallback</c>.
    /// </summary>
    public async Task<Socket> ConnectAsync(int port, CancellationToken cancellationToken)
    {
        var addresses = await ResolveAsync(cancellationToken).ConfigureAwait(false);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, port, cancellationToken).ConfigureAwait(false);
            if (socket.RemoteEndPoint is IPEndPoint remote)
            {
                Worked(remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address);
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static string Reason(Exception e) => e is TimeoutException ? "no answer within the lookup's time limit" : e.Message;
}
