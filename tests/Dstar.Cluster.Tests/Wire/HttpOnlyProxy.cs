using System.Net.Sockets;

namespace Dstar.Cluster.Tests.Wire;

/// <summary>
/// A TCP proxy in front of a server that forwards only connections that open as HTTP does, and closes any other at
/// its first byte (as an HTTP-only load balancer would an upload connection).
/// </summary>
internal sealed class HttpOnlyProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(System.Net.IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Uri _target;
    private Task _accepting = Task.CompletedTask;
    private int _refused;

    private HttpOnlyProxy(Uri target) => _target = target;

    /// <summary>The proxy's address, as http://127.0.0.1:PORT.</summary>
    public string Url => $"http://127.0.0.1:{((System.Net.IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Connections closed because they did not open as HTTP.</summary>
    public int Refused => Volatile.Read(ref _refused);

    public static HttpOnlyProxy Start(Uri target)
    {
        var proxy = new HttpOnlyProxy(target);
        proxy._listener.Start();
        proxy._accepting = proxy.AcceptAsync();
        return proxy;
    }

    private async Task AcceptAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                connections.Add(ForwardAsync(await _listener.AcceptTcpClientAsync(_stop.Token)));
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(connections);
    }

    private async Task ForwardAsync(TcpClient client)
    {
        using var _ = client;
        try
        {
            var first = new byte[1];
            var stream = client.GetStream();
            if (await stream.ReadAsync(first, _stop.Token) == 0)
            {
                return;
            }

            // Both an HTTP/1.1 request line and the HTTP/2 preface start with a letter; an upload preface starts with 0.
            if (!char.IsAsciiLetterUpper((char)first[0]))
            {
                Interlocked.Increment(ref _refused);
                return;
            }

            using var server = new TcpClient();
            await server.ConnectAsync(_target.Host, _target.Port, _stop.Token);
            var upstream = server.GetStream();
            await upstream.WriteAsync(first, _stop.Token);
            await Task.WhenAny(stream.CopyToAsync(upstream, _stop.Token), upstream.CopyToAsync(stream, _stop.Token));
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // One side went away: the other is closed with it.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
