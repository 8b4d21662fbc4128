using System.Net.Sockets;
using System.Text;
using Dstar.Cluster.Benchmarks;
using Dstar.Cluster.Observability;
using Dstar.Cluster.Protocol;
using Dstar.Cluster.Server;
using Dstar.Cluster.Wire;
using Dstar.Cluster.Worker;
using Dstar.Engine.Collection;
using Dstar.Engine.Server;
using Dstar.Engine.Transport;
using Grpc.Core;
using WireFormat = Dstar.Engine.Transport.WireFormat;

namespace Dstar.Cluster.Tests.Wire;

/// <summary>
/// The upload channel on a real <c>serve</c> host: gradients sent as raw frames arrive as the values, version and
/// timings sent (in every wire format, however the bytes are split on the way), are judged like gradients on the
/// session stream, and every bad opening or frame is refused with its reason and counted, while HTTP on the same port
/// goes on working.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class UploadChannelTests
{
    [Theory]
    [InlineData("float32", 1_000)]
    [InlineData("float32", 300_000)]
    [InlineData("bfloat16", 300_001)]
    [InlineData("float16", 777)]
    public async Task Uploaded_gradients_arrive_as_sent(string wireName, int d)
    {
        var wire = WireFormats.Parse(wireName);
        await using var server = await UploadServer.StartAsync(d, wire);
        await using var upload = await server.OpenUploadAsync();
        var random = new Random(d);
        for (var version = 0; version < 3; version++)
        {
            var gradient = RandomGradient(random, d);
            await upload.SendAsync(version, gradient, CancellationToken.None, computeSeconds: 0.25 + version, localSeconds: 1.5 + version);
            var arrival = await server.NextArrivalAsync();
            Assert.Equal((0, (long)version), (arrival.Worker, arrival.Version));
            Assert.Equal(Expected(wire, gradient), arrival.Gradient.ToArray());
            Assert.Equal((0.25 + version, 1.5 + version), server.Transport.WorkerTiming(0, version));
        }

        Assert.Contains("dstar_upload_connections_total 1", server.Metrics.Render());
    }

    [Theory]
    [InlineData("float32")]
    [InlineData("float16")]
    public async Task A_frame_written_in_small_pieces_decodes_to_the_same_values(string wireName)
    {
        var wire = WireFormats.Parse(wireName);
        const int d = 5_001;
        await using var server = await UploadServer.StartAsync(d, wire);
        using var raw = await server.OpenRawAsync();
        var gradient = RandomGradient(new Random(7), d);
        var frame = Frame(0, wire, gradient);

        // 7-byte pieces, each its own send: values straddle every kind of boundary on the server's side.
        for (var offset = 0; offset < frame.Length; offset += 7)
        {
            await raw.WriteAsync(frame.AsMemory(offset, Math.Min(7, frame.Length - offset)));
            await raw.FlushAsync();
        }

        var arrival = await server.NextArrivalAsync();
        Assert.Equal(Expected(wire, gradient), arrival.Gradient.ToArray());
    }

    [Fact]
    public async Task A_gradient_of_the_wrong_size_or_with_nan_is_judged_as_on_the_stream()
    {
        const int d = 64;
        await using var server = await UploadServer.StartAsync(d, WireFormat.Float32);
        await using var upload = await server.OpenUploadAsync();
        using var raw = await server.OpenRawAsync();

        // d − 1 values: an arrival the collector refuses for its length, as it would from the stream.
        var shorter = Frame(0, WireFormat.Float32, new float[d - 1]);
        await raw.WriteAsync(shorter);
        var arrival = await server.NextArrivalAsync();
        Assert.Equal(d - 1, arrival.Gradient.Length);
        var verdict = server.Judge(arrival, version: 0);
        Assert.Equal(DropReason.Malformed, verdict?.Reason);
        Assert.Contains($"length {d - 1}, expected {d}", verdict?.Detail);

        // A NaN: refused by the collector's check, the connection goes on.
        var nan = new float[d];
        nan[5] = float.NaN;
        await upload.SendAsync(1, nan, CancellationToken.None);
        verdict = server.Judge(await server.NextArrivalAsync(), version: 1);
        Assert.Equal(DropReason.Malformed, verdict?.Reason);

        // Bytes that are not whole values: refused by the transport itself, answered on the session stream.
        var odd = new byte[UploadFrames.HeaderLength + 7];
        UploadFrames.Write(new UploadFrames.Header(2, 0, 0, 7), odd);
        await raw.WriteAsync(odd);
        var outcome = await server.NextOutcomeAsync();
        Assert.Equal(OutcomeKind.Rejected, outcome.Kind);
        Assert.Contains("7 bytes is not a whole number of float32 values", outcome.Reason);

        // The worker's own side refuses a gradient of the wrong d before sending a byte, on both of its send paths.
        var wrong = new float[d + 1];
        var sync = Assert.Throws<ArgumentException>(() => upload.Send(5, wrong));
        var asynchronous = await Assert.ThrowsAsync<ArgumentException>(() => upload.SendAsync(5, wrong, CancellationToken.None));
        Assert.All([sync, asynchronous], e => Assert.StartsWith($"the upload sends gradients of d = {d} values, got {d + 1}", e.Message, StringComparison.Ordinal));

        // Both connections still carry gradients.
        var good = RandomGradient(new Random(1), d);
        await raw.WriteAsync(Frame(3, WireFormat.Float32, good));
        Assert.Equal(good, (await server.NextArrivalAsync()).Gradient.ToArray());
        await upload.SendAsync(4, good, CancellationToken.None);
        Assert.Equal(4, (await server.NextArrivalAsync()).Version);
    }

    [Fact]
    public async Task An_oversized_frame_closes_the_connection_from_its_header_and_the_session_goes_on()
    {
        const int d = 64;
        await using var server = await UploadServer.StartAsync(d, WireFormat.Float32);
        using var raw = await server.OpenRawAsync();
        var header = new byte[UploadFrames.HeaderLength];
        UploadFrames.Write(new UploadFrames.Header(0, 0, 0, 1L << 40), header);
        await raw.WriteAsync(header);
        Assert.True(await ClosedAsync(raw, CancellationToken.None), "the connection stayed open after an oversized frame");
        Assert.Contains("dstar_gradients_dropped_total{worker=\"0\",reason=\"malformed\"} 1", server.Metrics.Render());

        // The session itself is untouched: a new upload connection and the stream both still work.
        await using var upload = await server.OpenUploadAsync();
        await upload.SendAsync(0, new float[d], CancellationToken.None);
        Assert.Equal(0, (await server.NextArrivalAsync()).Version);
    }

    [Fact]
    public async Task Parameters_go_down_the_upload_connection_and_back_to_the_stream_when_it_closes()
    {
        const int d = 1_000;
        await using var server = await UploadServer.StartAsync(d, WireFormat.Float32);
        var upload = await server.OpenUploadWithDownlinkAsync();
        var x1 = RandomGradient(new Random(1), d);
        await server.Transport.PublishAsync(1, x1);
        var frame = await NextDownWithin20sAsync(upload);
        Assert.Equal(1, frame.Version);
        Assert.Equal(x1, FloatsOf(frame.Parameters!));

        // Closed by the worker: x_t goes on the stream again, and version 1, which the connection delivered, is not sent twice.
        await upload.DisposeAsync();
        await server.WaitForDownlinkAsync(present: false);
        var x2 = RandomGradient(new Random(2), d);
        await server.Transport.PublishAsync(2, x2);
        var parameters = (await InProcessServer.NextAsync(server.Connection.Call, ServerMessage.BodyOneofCase.Parameters)).Parameters;
        Assert.Equal(2, parameters.Version);
        Assert.Equal(x2, FloatsOf(parameters.Data.ToByteArray()));
    }

    [Fact]
    public async Task Outcomes_of_a_round_go_down_with_the_next_parameters_and_rejections_on_the_stream()
    {
        const int d = 50;
        await using var server = await UploadServer.StartAsync(d, WireFormat.Float32);
        await using var upload = await server.OpenUploadWithDownlinkAsync();

        // Round 3 kept worker 0's gradient, round 4 filtered it, and a gradient for round 2 came late: none of it is
        // written until x_5, and then all of it, in order, before x_5.
        server.Transport.ReportRound(RoundOf(3, kept: [0], filtered: []));
        server.Transport.ReportRound(RoundOf(4, kept: [], filtered: [0]));
        server.Transport.Judged(new Arrival(0, 2, new float[d], 0.5), new Drop(0, DropReason.Stale, "version 2 is behind 4"));
        await Task.Delay(300);
        var pending = NextDownWithin20sAsync(upload);
        Assert.False(pending.IsCompleted, "an outcome was written before the next parameters");

        var x5 = RandomGradient(new Random(5), d);
        await server.Transport.PublishAsync(5, x5);
        var frames = new List<DownFrame> { await pending };
        while (frames[^1].Parameters is null)
        {
            frames.Add(await NextDownWithin20sAsync(upload));
        }

        Assert.Equal(
            [(3L, OutcomeKind.Kept), (4L, OutcomeKind.Dropped), (2L, OutcomeKind.Late)],
            frames.SkipLast(1).Select(f => (f.Outcome!.Version, f.Outcome.Kind)));
        Assert.Equal(frames.SkipLast(1).Select(f => f.Outcome!.Version), frames.SkipLast(1).Select(f => f.Version));
        Assert.Contains("filtered out by dstar", frames[1].Outcome!.Reason);
        Assert.Equal(5, frames[^1].Version);
        Assert.Equal(x5, FloatsOf(frames[^1].Parameters!));

        // A rejection needs the worker's attention now: it goes on the stream at once.
        server.Transport.Judged(new Arrival(0, 5, new float[d], 0.1), new Drop(0, DropReason.Duplicate, "a second gradient for version 5"));
        var rejected = await server.NextOutcomeAsync();
        Assert.Equal((5L, OutcomeKind.Rejected), (rejected.Version, rejected.Kind));
    }

    [Fact]
    public async Task The_run_end_sends_the_waiting_outcomes_without_parameters()
    {
        const int d = 20;
        await using var server = await UploadServer.StartAsync(d, WireFormat.Float32);
        await using var upload = await server.OpenUploadWithDownlinkAsync();
        server.Transport.ReportRound(RoundOf(9, kept: [0], filtered: []));
        server.Transport.Finish(10);
        var frame = await NextDownWithin20sAsync(upload);
        Assert.Equal((9L, OutcomeKind.Kept), (frame.Outcome!.Version, frame.Outcome.Kind));
    }

    /// <summary>
    /// The next frame down <paramref name="upload"/>, read as the worker's rounds thread reads it (blocking, on a pool
    /// thread here), into a buffer of its own; fails the test if none comes within 20 s or the connection ends.
    /// </summary>
    private static async Task<DownFrame> NextDownWithin20sAsync(GradientUpload upload)
    {
        var frame = await Task.Run(() => upload.ReadDown(new byte[upload.Dimension * FloatWire.BytesPerValue])).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(frame.HasValue, "the upload connection ended");
        return frame.Value;
    }

    private static RoundEvent RoundOf(long round, int[] kept, int[] filtered) =>
        new(round, 0.01, 0.01, [.. kept, .. filtered], kept, filtered, [], double.NaN, 1.0, null, "dstar", null, KeptIsExact: true);

    [Fact]
    public async Task Parameters_cut_off_with_their_connection_are_sent_again_on_the_stream()
    {
        // 40 MB of x_t to a connection that never reads: the server's write stalls on TCP back-pressure until the
        // connection is cut, and the session must then get that version on its stream.
        const int d = 10_000_000;
        await using var server = await UploadServer.StartAsync(d, WireFormat.Float32);
        var raw = await server.OpenRawAsync();
        await server.WaitForDownlinkAsync(present: true);
        var x = new float[d];
        x[12_345] = 3.5f;
        await server.Transport.PublishAsync(7, x);
        await Task.Delay(200);
        raw.Socket.LingerState = new LingerOption(true, 0); // a reset, as a vanished worker's connection ends
        raw.Dispose();
        var parameters = (await InProcessServer.NextAsync(server.Connection.Call, ServerMessage.BodyOneofCase.Parameters)).Parameters;
        Assert.Equal(7, parameters.Version);
        Assert.Equal(3.5f, FloatsOf(parameters.Data.ToByteArray())[12_345]);
    }

    [Fact]
    public async Task Bad_openings_are_refused_with_their_reason_and_counted()
    {
        const int d = 16;
        await using var server = await UploadServer.StartAsync(d, WireFormat.Float32);

        // A token no session holds (one byte off the real one).
        var forged = server.Token.ToArray();
        forged[^1] ^= 1;
        var refused = await Assert.ThrowsAsync<UploadRefusedException>(() => server.OpenUploadAsync(forged));
        Assert.StartsWith("bad-token", refused.Reason);

        // The right first byte, then not the preface.
        using (var raw = await server.ConnectAsync())
        {
            var opening = new byte[UploadFrames.OpeningLength];
            await raw.WriteAsync(opening);
            Assert.StartsWith("refused: malformed: not an upload preface", await ReadLineAsync(raw));
        }

        // A third connection while two are open.
        await using (var first = await server.OpenUploadAsync())
        await using (var second = await server.OpenUploadAsync())
        {
            var third = await Assert.ThrowsAsync<UploadRefusedException>(() => server.OpenUploadAsync());
            Assert.StartsWith("too-many-uploads", third.Reason);
        }

        var metrics = server.Metrics.Render();
        Assert.Contains("dstar_refused_connections_total{reason=\"bad-token\"} 1", metrics);
        Assert.Contains("dstar_refused_connections_total{reason=\"malformed\"} 1", metrics);
        Assert.Contains("dstar_refused_connections_total{reason=\"too-many-uploads\"} 1", metrics);

        // Once the two close, a new one is accepted.
        await WaitUntilAsync(async () =>
        {
            try
            {
                await using var again = await server.OpenUploadAsync();
                return true;
            }
            catch (UploadRefusedException)
            {
                return false;
            }
        });
    }

    [Fact]
    public async Task An_opening_followed_by_a_half_close_is_still_answered_and_counted()
    {
        const int d = 16;
        await using var server = await UploadServer.StartAsync(d, WireFormat.Float32);
        var forged = server.Token.ToArray();
        forged[0] ^= 1;

        // A client that sends its opening and shuts its side down at once still reads the answer. Connected, written
        // and shut down without a pause, so the half-close usually reaches the server before it has read the opening;
        // several times, as that is a matter of timing.
        const int repeats = 10;
        var uri = new Uri(server.Url);
        for (var i = 0; i < repeats; i++)
        {
            foreach (var (opening, answer) in new[]
            {
                ([.. UploadFrames.Preface.ToArray(), .. forged], "refused: bad-token: the token is not that of an open session"),
                (UploadFrames.Preface.ToArray(), "refused: malformed: the connection ended inside the upload opening"),
            })
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                socket.Connect(uri.Host, uri.Port);
                using var raw = new NetworkStream(socket, ownsSocket: true);
                socket.Send(opening);
                socket.Shutdown(SocketShutdown.Send);
                Assert.Equal(answer, await ReadLineAsync(raw));
            }
        }

        var metrics = server.Metrics.Render();
        Assert.Contains($"dstar_refused_connections_total{{reason=\"bad-token\"}} {repeats}", metrics);
        Assert.Contains($"dstar_refused_connections_total{{reason=\"malformed\"}} {repeats}", metrics);
    }

    [Fact]
    public async Task A_token_dies_with_its_session_and_so_do_its_connections()
    {
        const int d = 16;
        await using var server = await UploadServer.StartAsync(d, WireFormat.Float32);
        using var raw = await server.OpenRawAsync();

        await server.EndSessionAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Assert.True(await ClosedAsync(raw, timeout.Token), "the server kept the upload connection of an ended session open");
        var refused = await Assert.ThrowsAsync<UploadRefusedException>(() => server.OpenUploadAsync());
        Assert.StartsWith("bad-token", refused.Reason);
    }

    [Fact]
    public async Task Http_and_grpc_on_the_same_port_are_unaffected()
    {
        await using var server = await UploadServer.StartAsync(8, WireFormat.Float32);
        await using var upload = await server.OpenUploadAsync();
        using var http = new HttpClient { DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        Assert.StartsWith("ok version=", await http.GetStringAsync(server.Url + "/healthz"));

        // The stream path still carries gradients next to the upload channel.
        var gradient = RandomGradient(new Random(3), 8);
        await new GradientSender(server.Connection.Call.RequestStream, 8).SendAsync(0, gradient, CancellationToken.None);
        Assert.Equal(gradient, (await server.NextArrivalAsync()).Gradient.ToArray());
    }

    [Fact]
    public async Task Upload_over_tls_checks_the_servers_certificate()
    {
        var directory = Directory.CreateTempSubdirectory("dstar-upload-tls-").FullName;
        try
        {
            var (ca, certificate, key) = TestCertificates.Write(directory, ["127.0.0.1"]);
            await using var server = await UploadServer.StartAsync(1_000, WireFormat.BFloat16, (ca, certificate, key));
            await using var upload = await server.OpenUploadAsync();
            var gradient = RandomGradient(new Random(11), 1_000);
            await upload.SendAsync(0, gradient, CancellationToken.None);
            Assert.Equal(Expected(WireFormat.BFloat16, gradient), (await server.NextArrivalAsync()).Gradient.ToArray());

            // Another CA's certificate is not trusted.
            var other = TestCertificates.Write(Path.Combine(directory, "other"), ["127.0.0.1"]);
            await Assert.ThrowsAsync<System.Security.Authentication.AuthenticationException>(() =>
                GradientUpload.OpenAsync(new Uri(server.Url), server.Token, other.CaPath, 1_000, WireFormat.BFloat16, CancellationToken.None));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task An_opening_the_server_never_answers_ends_when_cancelled_without_hanging()
    {
        // The opening runs blocking calls (so the socket stays blocking); a cancellation must still end it at once.
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var started = System.Diagnostics.Stopwatch.StartNew();
        var opening = GradientUpload.OpenAsync(new Uri($"http://127.0.0.1:{port}"), new byte[UploadFrames.TokenLength], null, 4, WireFormat.Float32, cancel.Token);
        using var accepted = await listener.AcceptSocketAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => opening);
        Assert.True(started.Elapsed < GradientUpload.OpeningTimeout / 2, $"took {started.Elapsed}");
    }

    [Fact]
    public async Task Workers_of_a_cluster_run_send_on_the_upload_channel()
    {
        // k = N: round 0 closes only once every worker has sent, so every upload connection is open by then.
        await using var server = new InProcessServer(ClusterFixture.Yaml(workers: 3, k: 3, rounds: 40, samples: 300, features: 4), computeMilliseconds: 100);
        await server.ReadyAsync();
        for (var id = 0; id < 3; id++)
        {
            server.StartHonestWorker(id);
        }

        await server.Fixture.WaitForRoundAsync(2, TimeSpan.FromSeconds(60), () => server.Progress.ToString());
        var metrics = await server.MetricsAsync();
        Assert.Contains("dstar_upload_connections_total 3", metrics);
        Assert.DoesNotContain("reason=\"malformed\"", metrics);

        // x_t reaches a worker on its stream on joining and again on its upload connection: it must compute it once.
        Assert.DoesNotContain("reason=\"duplicate\"", metrics);
        Assert.Equal(0, await server.WaitWorkersAsync());
        Assert.Equal(0, await server.Task);
        Assert.Equal(40, server.Fixture.Summary().GetProperty("rounds").GetInt32());
    }

    [Fact]
    public async Task Workers_behind_a_proxy_that_passes_only_http_send_on_the_session_stream()
    {
        await using var server = new InProcessServer(ClusterFixture.Yaml(workers: 2, k: 2, rounds: 30, samples: 300, features: 4));
        await server.ReadyAsync();
        await using var proxy = HttpOnlyProxy.Start(new Uri(server.Fixture.Url));
        server.StartHonestWorker(0, proxy.Url);
        server.StartHonestWorker(1, proxy.Url);

        await server.Fixture.WaitForRoundAsync(2, TimeSpan.FromSeconds(60), () => server.Progress.ToString());
        var metrics = await server.MetricsAsync();
        Assert.Contains("dstar_upload_connections_total 0", metrics);
        Assert.DoesNotContain("reason=\"malformed\"", metrics);
        Assert.Equal(0, await server.WaitWorkersAsync());
        Assert.Equal(0, await server.Task);
        Assert.Equal(30, server.Fixture.Summary().GetProperty("rounds").GetInt32());

        // Each worker tried its upload connection once, was cut off by the proxy, and sent every gradient on its stream.
        Assert.Equal(2, proxy.Refused);
    }

    private static float[] FloatsOf(byte[] bytes)
    {
        var values = new float[bytes.Length / 4];
        GradientCodec.Decode(WireFormat.Float32, bytes, values);
        return values;
    }

    private static float[] RandomGradient(Random random, int d)
    {
        var values = new float[d];
        for (var i = 0; i < d; i++)
        {
            values[i] = (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-6, 4)));
        }

        return values;
    }

    /// <summary>What the server should hold after <paramref name="wire"/>'s round trip (the codec's own, tested elsewhere against the formulas).</summary>
    private static float[] Expected(WireFormat wire, float[] values)
    {
        var bytes = new byte[values.Length * wire.BytesPerValue()];
        GradientCodec.Encode(wire, values, bytes);
        var decoded = new float[values.Length];
        GradientCodec.Decode(wire, bytes, decoded);
        return decoded;
    }

    private static byte[] Frame(long version, WireFormat wire, float[] values)
    {
        var payload = values.Length * wire.BytesPerValue();
        var frame = new byte[UploadFrames.HeaderLength + payload];
        UploadFrames.Write(new UploadFrames.Header(version, 0, 0, payload), frame);
        GradientCodec.Encode(wire, values, frame.AsSpan(UploadFrames.HeaderLength));
        return frame;
    }

    /// <summary>True when the server closed or reset the connection (a read returns nothing or fails), false when it sent a byte.</summary>
    private static async Task<bool> ClosedAsync(Stream stream, CancellationToken cancellationToken)
    {
        try
        {
            return await stream.ReadAsync(new byte[1], cancellationToken) == 0;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static async Task<string> ReadLineAsync(Stream stream)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var bytes = new List<byte>();
        var one = new byte[1];
        while (await stream.ReadAsync(one, timeout.Token) == 1 && one[0] != (byte)'\n')
        {
            bytes.Add(one[0]);
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 200; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("the condition never held");
    }

    /// <summary>serve's host with one joined session (worker 0), read through its transport as the round loop reads it.</summary>
    private sealed class UploadServer : IAsyncDisposable
    {
        private readonly LoopbackSession _session;
        private readonly string _directory;
        private readonly IAsyncEnumerator<Arrival> _arrivals;
        private readonly CancellationTokenSource _stop = new();
        private readonly RoundCollector _collector;

        private UploadServer(LoopbackSession session, string directory)
        {
            _session = session;
            _directory = directory;
            _arrivals = session.Transport.ReadArrivalsAsync(_stop.Token).GetAsyncEnumerator(_stop.Token);
            _collector = new RoundCollector(1, session.Transport.Dimension, 1);
        }

        public WorkerConnection Connection => _session.Connection;

        public GrpcTransport Transport => _session.Transport;

        public ClusterMetrics Metrics => _session.Metrics;

        public string Url => _session.Url;

        public ReadOnlyMemory<byte> Token => _session.UploadToken;

        public static async Task<UploadServer> StartAsync(int d, WireFormat wire, (string Ca, string Certificate, string Key)? tls = null)
        {
            var directory = Directory.CreateTempSubdirectory("dstar-upload-").FullName;
            var session = await LoopbackSession.StartAsync(d, wire, directory, tls, CancellationToken.None);
            Assert.Equal(UploadFrames.TokenLength, session.UploadToken.Length);
            return new UploadServer(session, directory);
        }

        public Task<GradientUpload> OpenUploadAsync(ReadOnlyMemory<byte>? token = null) => _session.OpenUploadAsync(token);

        /// <summary>An upload connection that x_t and outcomes already go down.</summary>
        public async Task<GradientUpload> OpenUploadWithDownlinkAsync()
        {
            var upload = await OpenUploadAsync();
            await WaitForDownlinkAsync(present: true);
            return upload;
        }

        /// <summary>Waits until x_t would go down an upload connection (<paramref name="present"/>) or on the stream.</summary>
        public Task WaitForDownlinkAsync(bool present) => WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref SessionOfWorker0().Downlink) is not null == present));

        private WorkerSession SessionOfWorker0() => Transport.Session(0) ?? throw new InvalidOperationException("worker 0 has no session");

        /// <summary>A plain TCP connection to the server's port (insecure servers only).</summary>
        public async Task<NetworkStream> ConnectAsync()
        {
            var uri = new Uri(Url);
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(uri.Host, uri.Port);
            return new NetworkStream(socket, ownsSocket: true);
        }

        /// <summary>A plain TCP connection that has sent the preface and the session's token, and was accepted.</summary>
        public async Task<NetworkStream> OpenRawAsync()
        {
            var stream = await ConnectAsync();
            await stream.WriteAsync(UploadFrames.Preface.ToArray());
            await stream.WriteAsync(Token);
            Assert.Equal("ok", await ReadLineAsync(stream));
            return stream;
        }

        public async Task<Arrival> NextArrivalAsync()
        {
            var next = _arrivals.MoveNextAsync().AsTask();
            if (await Task.WhenAny(next, Task.Delay(TimeSpan.FromSeconds(20))) != next || !await next)
            {
                throw new TimeoutException("no arrival within 20 s");
            }

            // Copied: the transport reuses the buffer once the consumer moves on.
            var current = _arrivals.Current;
            return current with { Gradient = current.Gradient.ToArray() };
        }

        public Drop? Judge(Arrival arrival, long version)
        {
            _collector.Begin(version, 1);
            return _collector.Offer(arrival);
        }

        public async Task<Outcome> NextOutcomeAsync() => (await InProcessServer.NextAsync(Connection.Call, ServerMessage.BodyOneofCase.Outcome)).Outcome;

        /// <summary>Ends worker 0's session stream as a worker that goes away does.</summary>
        public async Task EndSessionAsync()
        {
            await Connection.Call.RequestStream.CompleteAsync();
            try
            {
                while (await Connection.Call.ResponseStream.MoveNext(CancellationToken.None))
                {
                }
            }
            catch (RpcException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            try
            {
                await _arrivals.DisposeAsync();
            }
            catch (OperationCanceledException)
            {
            }

            await _session.DisposeAsync();
            Directory.Delete(_directory, recursive: true);
        }
    }
}
