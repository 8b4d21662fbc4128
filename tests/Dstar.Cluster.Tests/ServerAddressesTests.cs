using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Dstar.Cluster.Worker;

namespace Dstar.Cluster.Tests;

/// <summary>The worker's lookup of its server: a time limit, and the last working address when the lookup fails.</summary>
public class ServerAddressesTests
{
    private static readonly IPAddress Server = IPAddress.Parse("10.1.2.3");

    [Fact]
    public async Task A_failed_or_hanging_lookup_falls_back_to_the_address_that_worked_last()
    {
        var answers = new Queue<Func<Task<IPAddress[]>>>();
        answers.Enqueue(() => Task.FromResult(new[] { Server }));
        answers.Enqueue(() => Task.FromException<IPAddress[]>(new SocketException((int)SocketError.TryAgain)));
        answers.Enqueue(() => new TaskCompletionSource<IPAddress[]>().Task); // never answers
        var notes = new List<string>();
        var addresses = new ServerAddresses("ps.example", (_, _) => answers.Dequeue()(), TimeSpan.FromMilliseconds(200), notes.Add);

        Assert.Equal([Server], await addresses.ResolveAsync(CancellationToken.None));
        Assert.Null(addresses.LastWorking); // resolved is not yet worked
        addresses.Worked(Server);

        Assert.Equal([Server], await addresses.ResolveAsync(CancellationToken.None));
        var clock = Stopwatch.StartNew();
        Assert.Equal([Server], await addresses.ResolveAsync(CancellationToken.None));
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(10));
        Assert.Equal(2, notes.Count);
        Assert.All(notes, note => Assert.Contains("the server name ps.example could not be looked up", note, StringComparison.Ordinal));
        Assert.Contains("no answer within the lookup's time limit", notes[1], StringComparison.Ordinal);
        Assert.EndsWith("trying 10.1.2.3, the address that worked last", notes[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_working_address_a_hanging_lookup_fails_in_its_time_limit_naming_the_host()
    {
        var addresses = new ServerAddresses("ps.example", (_, _) => new TaskCompletionSource<IPAddress[]>().Task, TimeSpan.FromMilliseconds(200));
        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<SocketException>(() => addresses.ResolveAsync(CancellationToken.None));
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(10));
        Assert.Equal("the server name ps.example could not be looked up (no answer within the lookup's time limit), and no address of it has worked yet", e.Message);
    }

    [Fact]
    public async Task A_cancelled_resolve_is_cancelled_not_a_fallback()
    {
        var addresses = new ServerAddresses("ps.example", (_, _) => new TaskCompletionSource<IPAddress[]>().Task, TimeSpan.FromSeconds(30));
        addresses.Worked(Server);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => addresses.ResolveAsync(cancel.Token));
    }

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("[::1]", "::1")]
    public async Task An_ip_literal_is_never_looked_up(string host, string expected)
    {
        var addresses = new ServerAddresses(host, (_, _) => throw new InvalidOperationException("looked up"));
        Assert.Equal([IPAddress.Parse(expected)], await addresses.ResolveAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Connecting_by_name_records_the_address_that_accepted()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;

        // The first address refuses (nothing listens on ::1 at this port), the second accepts.
        var addresses = new ServerAddresses("ps.test", (_, _) => Task.FromResult(new[] { IPAddress.IPv6Loopback, IPAddress.Loopback }));
        using var socket = await addresses.ConnectAsync(port, CancellationToken.None);
        using var accepted = await listener.AcceptSocketAsync();
        Assert.True(socket.Connected);
        Assert.Equal(IPAddress.Loopback, addresses.LastWorking);
    }
}
