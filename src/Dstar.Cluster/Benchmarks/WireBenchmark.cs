using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Dstar.Cluster.Launch;
using Dstar.Cluster.Observability;
using Dstar.Cluster.Protocol;
using Dstar.Cluster.Security;
using Dstar.Cluster.Server;
using Dstar.Cluster.Wire;
using Dstar.Cluster.Worker;
using Dstar.Engine.Collection;
using Dstar.Engine.Configuration;
using Dstar.Engine.Transport;

namespace Dstar.Cluster.Benchmarks;

/// <summary>
/// <c>dstar bench wire</c>: one worker pushes gradients of d float32 values to a server over loopback, through the
/// cluster's own code path — the Kestrel host of <c>dstar serve</c> (<see cref="ClusterServer.BuildHost"/>), an
/// authenticated session joined as <c>dstar work</c> joins, its upload channel opened as <c>dstar work</c> opens it,
/// the worker's <see cref="GradientSender"/>, the server's <see cref="GrpcTransport"/> and a <see cref="RoundCollector"/>
/// that copies and checks the gradient into its row — and, in the same process and interleaved with it, the same push
/// as a <c>Gradient</c> message on the session stream (what a worker falls back to without the upload channel), and a
/// raw TCP socket pair (a TLS stream over it with <c>--tls</c>) that moves the same payload straight into a float
/// array: the baseline both are judged against.
/// </summary>
/// <remarks>
/// One push is timed from the start of the worker's encode to the moment the receiver holds the whole gradient (for
/// gRPC: decoded to float32 and accepted by the collector). Pushes are sequential, as in a round, where a worker sends
/// one gradient and waits for the next parameters. Throughput is 4·d bytes (the gradient as float32, whatever the wire
/// format) over the median push time.
/// </remarks>
public static class WireBenchmark
{
    /// <summary>What to measure.</summary>
    /// <param name="Dimensions">Gradient lengths d, one run each.</param>
    /// <param name="Tls">TLS on both paths (gRPC over HTTPS; the raw pair as a TLS stream), else plain TCP and h2c.</param>
    /// <param name="Repeats">Timed pushes per path and d (the median is reported).</param>
    /// <param name="WarmUps">Untimed pushes per path and d first.</param>
    /// <param name="Seed">Seed of the gradient values.</param>
    /// <param name="Wire">How the worker encodes gradients (the config's <c>wire</c>); the raw pair moves the same encoded bytes.</param>
    public sealed record Settings(IReadOnlyList<int> Dimensions, bool Tls, int Repeats, int WarmUps, int Seed = 0, WireFormat Wire = WireFormat.Float32);

    /// <summary>One d: the median push time of each path.</summary>
    /// <param name="Dimension">d.</param>
    /// <param name="Tls">Whether both paths used TLS.</param>
    /// <param name="RawSeconds">Median seconds per push over the raw socket pair.</param>
    /// <param name="GrpcSeconds">Median seconds per push through the cluster's path (the upload channel when it opened).</param>
    public sealed record Run(int Dimension, bool Tls, double RawSeconds, double GrpcSeconds)
    {
        /// <summary>Whether the cluster's path was the upload channel (else the session stream: it did not open).</summary>
        public bool Uploaded { get; init; }

        /// <summary>Median seconds per push as a <c>Gradient</c> message on the session stream.</summary>
        public double StreamSeconds { get; init; }

        /// <summary>Median CPU seconds of this process (both ends) per push on the session stream.</summary>
        public double StreamCpuSeconds { get; init; }

        /// <summary>Session-stream throughput, 10⁹ bytes of float32 gradient per second.</summary>
        public double StreamGigabytesPerSecond => Bytes / StreamSeconds / 1e9;

        /// <summary>Session-stream throughput over raw throughput.</summary>
        public double StreamRatio => RawSeconds / StreamSeconds;

        /// <summary>How the gradient was encoded.</summary>
        public WireFormat Wire { get; init; }

        /// <summary>The fastest raw push (seconds): on a shared machine, the one least disturbed by other work.</summary>
        public double RawFastestSeconds { get; init; }

        /// <summary>The fastest gRPC push (seconds).</summary>
        public double GrpcFastestSeconds { get; init; }

        /// <summary>Median CPU seconds of this process (both ends) per raw push.</summary>
        public double RawCpuSeconds { get; init; }

        /// <summary>Median CPU seconds of this process (both ends) per push on the cluster's path.</summary>
        public double GrpcCpuSeconds { get; init; }

        /// <summary>Fastest gRPC push over fastest raw push, as a throughput ratio.</summary>
        public double FastestRatio => RawFastestSeconds / GrpcFastestSeconds;

        /// <summary>Bytes of one gradient as float32: 4·d.</summary>
        public long Bytes => (long)Dimension * FloatWire.BytesPerValue;

        /// <summary>Raw socket throughput, 10⁹ bytes of float32 gradient per second.</summary>
        public double RawGigabytesPerSecond => Bytes / RawSeconds / 1e9;

        /// <summary>gRPC push throughput, 10⁹ bytes of float32 gradient per second.</summary>
        public double GrpcGigabytesPerSecond => Bytes / GrpcSeconds / 1e9;

        /// <summary>gRPC throughput over raw throughput (1 = socket speed).</summary>
        public double Ratio => RawSeconds / GrpcSeconds;
    }

    /// <summary>Measures every d of <paramref name="settings"/>; progress lines go to <paramref name="progress"/>.</summary>
    /// <exception cref="ArgumentException">a setting is out of range.</exception>
    public static async Task<IReadOnlyList<Run>> RunAsync(Settings settings, Action<string> progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Dimensions.Count == 0 || settings.Dimensions.Any(d => d < 1 || d > MaxDimension))
        {
            throw new ArgumentException($"--d must be in 1..{MaxDimension} (the largest gradient a gRPC message can carry)");
        }

        if (settings.Repeats < 1 || settings.WarmUps < 0)
        {
            throw new ArgumentException("--repeats must be ≥ 1 and --warmups ≥ 0");
        }

        var directory = Path.Combine(Path.GetTempPath(), "dstar-bench-wire-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var runs = new List<Run>();
            var certificates = settings.Tls ? BenchCertificates.Write(directory) : default;
            for (var i = 0; i < settings.Dimensions.Count; i++)
            {
                var d = settings.Dimensions[i];
                progress($"[{i + 1}/{settings.Dimensions.Count}] d = {d:N0} ({d * 4.0 / 1e6:G4} MB){(settings.Tls ? " with TLS" : "")}: "
                    + $"{settings.WarmUps} warm-up and {settings.Repeats} timed pushes per path");
                runs.Add(await MeasureAsync(d, settings, directory, certificates, cancellationToken).ConfigureAwait(false));
            }

            return runs;
        }
        finally
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temporary directory is harmless.
            }
        }
    }

    /// <summary>The largest d: 4·d plus framing must fit a gRPC message (2 GB).</summary>
    public const int MaxDimension = (int.MaxValue - ClusterServer.MessageSlack) / FloatWire.BytesPerValue;

    private static async Task<Run> MeasureAsync(int d, Settings settings, string directory, (string Ca, string Certificate, string Key) certificates,
        CancellationToken cancellationToken)
    {
        var gradient = new float[d];
        var random = new Random(settings.Seed);
        for (var i = 0; i < d; i++)
        {
            gradient[i] = (float)(random.NextDouble() - 0.5);
        }

        await using var grpc = await GrpcPath.StartAsync(d, settings.Tls, settings.Wire, directory, certificates, cancellationToken).ConfigureAwait(false);
        await using var raw = await RawPath.StartAsync(d, settings.Wire, settings.Tls ? certificates : null, cancellationToken).ConfigureAwait(false);
        var rawTimes = new List<double>();
        var grpcTimes = new List<double>();
        var streamTimes = new List<double>();
        var rawCpu = new List<double>();
        var grpcCpu = new List<double>();
        var streamCpu = new List<double>();
        using var process = Process.GetCurrentProcess();
        for (var r = 0; r < settings.WarmUps + settings.Repeats; r++)
        {
            var cpu0 = CpuSeconds(process);
            var rawSeconds = await raw.PushAsync(gradient, cancellationToken).ConfigureAwait(false);
            var cpu1 = CpuSeconds(process);
            var grpcSeconds = await grpc.PushAsync(2L * r, gradient, upload: true, cancellationToken).ConfigureAwait(false);
            var cpu2 = CpuSeconds(process);
            var streamSeconds = await grpc.PushAsync((2L * r) + 1, gradient, upload: false, cancellationToken).ConfigureAwait(false);
            var cpu3 = CpuSeconds(process);
            if (r >= settings.WarmUps)
            {
                rawTimes.Add(rawSeconds);
                grpcTimes.Add(grpcSeconds);
                streamTimes.Add(streamSeconds);
                rawCpu.Add(cpu1 - cpu0);
                grpcCpu.Add(cpu2 - cpu1);
                streamCpu.Add(cpu3 - cpu2);
            }
        }

        return new Run(d, settings.Tls, Median(rawTimes), Median(grpcTimes))
        {
            Uploaded = grpc.Uploads,
            StreamSeconds = Median(streamTimes),
            StreamCpuSeconds = Median(streamCpu),
            Wire = settings.Wire,
            RawFastestSeconds = rawTimes.Min(),
            GrpcFastestSeconds = grpcTimes.Min(),
            RawCpuSeconds = Median(rawCpu),
            GrpcCpuSeconds = Median(grpcCpu),
        };
    }

    private static double CpuSeconds(Process process)
    {
        process.Refresh();
        return process.TotalProcessorTime.TotalSeconds;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        var n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[(n / 2) - 1] + values[n / 2]) / 2;
    }

    /// <summary>The cluster's path: a <c>serve</c> host with one worker session and its upload channel, both senders, the transport and a collector.</summary>
    private sealed class GrpcPath : IAsyncDisposable
    {
        private readonly LoopbackSession _session;
        private readonly GradientUpload _upload;
        private readonly GradientSender _sender;
        private readonly GradientSender _streamSender;
        private readonly IAsyncEnumerator<Dstar.Engine.Transport.Arrival> _arrivals;
        private readonly RoundCollector _collector;
        private readonly Task _outcomes;
        private readonly CancellationTokenSource _stop = new();

        private GrpcPath(LoopbackSession session, GradientUpload upload)
        {
            _session = session;
            _upload = upload;
            var stream = session.Connection.Call.RequestStream;
            var (dimension, wire) = (session.Transport.Dimension, session.Transport.Wire);
            _sender = new GradientSender(stream, dimension, wire, upload);
            _streamSender = new GradientSender(stream, dimension, wire);
            _arrivals = session.Transport.ReadArrivalsAsync(_stop.Token).GetAsyncEnumerator(_stop.Token);
            _collector = new RoundCollector(1, dimension, 1);

            // The worker reads what the server sends (a rejected push would be answered), as dstar work does.
            var responses = session.Connection.Call.ResponseStream;
            _outcomes = Task.Run(async () =>
            {
                try
                {
                    while (await responses.MoveNext(_stop.Token).ConfigureAwait(false))
                    {
                    }
                }
                catch (Exception e) when (e is OperationCanceledException or Grpc.Core.RpcException or IOException)
                {
                }
            });
        }

        public static async Task<GrpcPath> StartAsync(int dimension, bool tls, WireFormat wire, string directory, (string Ca, string Certificate, string Key) certificates,
            CancellationToken cancellationToken)
        {
            var session = await LoopbackSession.StartAsync(dimension, wire, Path.Combine(directory, "keys-" + dimension), tls ? certificates : null, cancellationToken)
                .ConfigureAwait(false);
            try
            {
                return new GrpcPath(session, await session.OpenUploadAsync(cancellationToken: cancellationToken).ConfigureAwait(false));
            }
            catch
            {
                await session.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        /// <summary>Whether the cluster's sender uses the upload channel.</summary>
        public bool Uploads => _sender.Uploads;

        /// <summary>
        /// One push as version <paramref name="version"/>, as the worker sends it (<paramref name="upload"/>) or on the
        /// session stream; seconds from encode to the collector's acceptance.
        /// </summary>
        public async Task<double> PushAsync(long version, float[] gradient, bool upload, CancellationToken cancellationToken)
        {
            _collector.Begin(version, 1);
            var clock = Stopwatch.StartNew();
            var send = (upload ? _sender : _streamSender).SendAsync(version, gradient, cancellationToken);
            if (!await _arrivals.MoveNextAsync().ConfigureAwait(false))
            {
                throw new InvalidOperationException("the transport's arrival stream ended during the benchmark");
            }

            var arrival = _arrivals.Current;
            var verdict = _collector.Offer(arrival);
            _session.Transport.Judged(arrival, verdict);
            var seconds = clock.Elapsed.TotalSeconds;
            await send.ConfigureAwait(false);
            if (verdict is { } drop)
            {
                throw new InvalidOperationException($"the server refused the benchmark's gradient: {drop.Reason.Name()}: {drop.Detail}");
            }

            return seconds;
        }

        public async ValueTask DisposeAsync()
        {
            await _session.Connection.Call.RequestStream.CompleteAsync().ConfigureAwait(false);
            _stop.Cancel();
            try
            {
                await _outcomes.ConfigureAwait(false);
                await _arrivals.DisposeAsync().ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            await _upload.DisposeAsync().ConfigureAwait(false);
            await _session.DisposeAsync().ConfigureAwait(false);
            _stop.Dispose();
        }
    }

    /// <summary>
    /// The baseline: a connected pair of loopback TCP sockets (each wrapped in a TLS stream with a certificate), the
    /// sender writing an 8-byte length and the encoded payload, the receiver reading it straight into one array of 4·d bytes.
    /// </summary>
    private sealed class RawPath : IAsyncDisposable
    {
        private readonly Socket _senderSocket;
        private readonly Socket _receiverSocket;
        private readonly Stream _sender;
        private readonly Stream _receiver;
        private readonly byte[] _payload;
        private readonly byte[] _row;
        private readonly byte[] _header = new byte[8];
        private readonly byte[] _receivedHeader = new byte[8];
        private readonly WireFormat _wire;

        private RawPath(Socket senderSocket, Socket receiverSocket, Stream sender, Stream receiver, int dimension, WireFormat wire)
        {
            _wire = wire;
            _senderSocket = senderSocket;
            _receiverSocket = receiverSocket;
            _sender = sender;
            _receiver = receiver;
            _payload = new byte[dimension * wire.BytesPerValue()];
            _row = new byte[dimension * wire.BytesPerValue()];
        }

        public static async Task<RawPath> StartAsync(int dimension, WireFormat wire, (string Ca, string Certificate, string Key)? tls, CancellationToken cancellationToken)
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            var accept = listener.AcceptAsync(cancellationToken).AsTask();
            await client.ConnectAsync(listener.LocalEndPoint!, cancellationToken).ConfigureAwait(false);
            var server = await accept.ConfigureAwait(false);
            server.NoDelay = true;
            Stream sender = new NetworkStream(client, ownsSocket: false);
            Stream receiver = new NetworkStream(server, ownsSocket: false);
            if (tls is { } files)
            {
                var certificate = X509Certificate2.CreateFromPemFile(files.Certificate, files.Key);
                var ca = X509CertificateLoader.LoadCertificateFromFile(files.Ca);
                var serverTls = new SslStream(receiver, leaveInnerStreamOpen: false);
                var clientTls = new SslStream(sender, leaveInnerStreamOpen: false, WorkerConnection.TrustOnly(ca));
                await Task.WhenAll(
                    serverTls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }, cancellationToken),
                    clientTls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1" }, cancellationToken)).ConfigureAwait(false);
                sender = clientTls;
                receiver = serverTls;
            }

            return new RawPath(client, server, sender, receiver, dimension, wire);
        }

        /// <summary>One push; seconds from encode to the receiver holding every float.</summary>
        public async Task<double> PushAsync(float[] gradient, CancellationToken cancellationToken)
        {
            var clock = Stopwatch.StartNew();
            var receive = ReceiveAsync(cancellationToken);
            GradientCodec.Encode(_wire, gradient, _payload);
            BitConverter.TryWriteBytes(_header, (long)_payload.Length);
            await _sender.WriteAsync(_header, cancellationToken).ConfigureAwait(false);
            await _sender.WriteAsync(_payload, cancellationToken).ConfigureAwait(false);
            await receive.ConfigureAwait(false);
            return clock.Elapsed.TotalSeconds;
        }

        private async Task ReceiveAsync(CancellationToken cancellationToken)
        {
            await _receiver.ReadExactlyAsync(_receivedHeader, cancellationToken).ConfigureAwait(false);
            var length = BitConverter.ToInt64(_receivedHeader);
            if (length != _row.Length)
            {
                throw new InvalidDataException($"raw baseline: expected {_row.Length} bytes, the header says {length}");
            }

            // The encoded values land in the row's memory as they are (for float32 on a little-endian machine, as a decode would leave them).
            await _receiver.ReadExactlyAsync(_row, cancellationToken).ConfigureAwait(false);
        }

        public async ValueTask DisposeAsync()
        {
            await _sender.DisposeAsync().ConfigureAwait(false);
            await _receiver.DisposeAsync().ConfigureAwait(false);
            _senderSocket.Dispose();
            _receiverSocket.Dispose();
        }
    }
}
