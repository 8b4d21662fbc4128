using Dstar.Cluster.Protocol;
using Dstar.Cluster.Server;
using Dstar.Cluster.Wire;
using Dstar.Cluster.Worker;
using Google.Protobuf;

namespace Dstar.Cluster.Tests.Wire;

/// <summary>
/// What the server sends down an upload connection (<see cref="UploadFrames.DownKind"/>): the worker's reading of the
/// frames, including the frames it must refuse, and the server's queue that holds outcomes back until the next x_t.
/// </summary>
public sealed class DownFrameTests
{
    private const int D = 7;

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(37)]
    [InlineData(1000)]
    public void A_random_sequence_of_frames_reads_back_as_written_however_the_reads_split_it(int maxRead)
    {
        var random = new Random(42);
        var written = new List<(long Version, float[]? X, Outcome? Outcome)>();
        var bytes = new MemoryStream();
        for (var i = 0; i < 200; i++)
        {
            var version = random.NextInt64(0, 1L << 40);
            if (random.Next(2) == 0)
            {
                var x = Enumerable.Range(0, D).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
                WriteFrame(bytes, version, UploadFrames.DownKind.Parameters, FloatWire.Encode(x).ToByteArray());
                written.Add((version, x, null));
            }
            else
            {
                var outcome = new Outcome { Version = version, Kind = (OutcomeKind)random.Next(1, 5), Reason = new string('r', random.Next(0, 300)) };
                WriteFrame(bytes, version, UploadFrames.DownKind.Outcome, outcome.ToByteArray());
                written.Add((version, null, outcome));
            }
        }

        bytes.Position = 0;
        var read = ReadAll(new ChunkedStream(bytes, maxRead)).ToList();
        Assert.Equal(written.Count, read.Count);
        for (var i = 0; i < read.Count; i++)
        {
            Assert.Equal(written[i].Version, read[i].Version);
            Assert.Equal(written[i].Outcome, read[i].Outcome);
            if (written[i].X is { } x)
            {
                var back = new float[D];
                FloatWire.Read(read[i].Parameters, back);
                Assert.Equal(x, back);
            }
            else
            {
                Assert.Null(read[i].Parameters);
            }
        }
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1000)]
    public void Parameters_larger_than_the_read_buffer_read_back_whole_between_outcomes(int maxRead)
    {
        const int d = (DownReader.MaxBufferLength / FloatWire.BytesPerValue) + 1234;
        var random = new Random(7);
        var bytes = new MemoryStream();
        var xs = new List<float[]>();
        for (var version = 0; version < 3; version++)
        {
            WriteFrame(bytes, version, UploadFrames.DownKind.Outcome, new Outcome { Version = version, Kind = OutcomeKind.Kept }.ToByteArray());
            var x = Enumerable.Range(0, d).Select(_ => (float)random.NextDouble()).ToArray();
            WriteFrame(bytes, version, UploadFrames.DownKind.Parameters, FloatWire.Encode(x).ToByteArray());
            xs.Add(x);
        }

        bytes.Position = 0;
        var reader = new DownReader(new ChunkedStream(bytes, maxRead), d);
        var parameters = new byte[d * FloatWire.BytesPerValue];
        for (var version = 0; version < 3; version++)
        {
            Assert.Equal(OutcomeKind.Kept, reader.Read(parameters)!.Value.Outcome!.Kind);
            var frame = reader.Read(parameters)!.Value;
            Assert.Equal(version, frame.Version);
            var back = new float[d];
            FloatWire.Read(frame.Parameters, back);
            Assert.Equal(xs[version], back);
        }

        Assert.Null(reader.Read(parameters));
    }

    [Theory]
    [InlineData("unknown kind", "unknown kind 9")]
    [InlineData("parameters of the wrong size", "expected 28")]
    [InlineData("an oversized outcome", "more than 1024")]
    [InlineData("an outcome that is not one", "not an Outcome")]
    [InlineData("a cut header", "inside a frame's header")]
    [InlineData("a cut payload", "")]
    public void A_frame_the_server_should_not_send_ends_the_reading_with_an_error_naming_it(string what, string message)
    {
        var bytes = new MemoryStream();
        WriteFrame(bytes, 1, UploadFrames.DownKind.Outcome, new Outcome { Version = 1, Kind = OutcomeKind.Kept }.ToByteArray());
        switch (what)
        {
            case "unknown kind":
                WriteFrame(bytes, 2, (UploadFrames.DownKind)9, new byte[4]);
                break;
            case "parameters of the wrong size":
                WriteFrame(bytes, 2, UploadFrames.DownKind.Parameters, new byte[4 * (D + 1)]);
                break;
            case "an oversized outcome":
                WriteFrame(bytes, 2, UploadFrames.DownKind.Outcome, new byte[UploadFrames.MaxOutcomeLength + 1]);
                break;
            case "an outcome that is not one":
                WriteFrame(bytes, 2, UploadFrames.DownKind.Outcome, [0xff, 0xff, 0xff]);
                break;
            case "a cut header":
                bytes.Write(new byte[UploadFrames.HeaderLength - 1]);
                break;
            case "a cut payload":
                var header = new byte[UploadFrames.HeaderLength];
                UploadFrames.Write(new UploadFrames.DownHeader(2, UploadFrames.DownKind.Parameters, 4 * D), header);
                bytes.Write(header);
                bytes.Write(new byte[5]);
                break;
        }

        bytes.Position = 0;
        var frames = new List<DownFrame>();
        var error = Assert.ThrowsAny<IOException>(() =>
        {
            foreach (var frame in ReadAll(bytes))
            {
                frames.Add(frame);
            }
        });
        Assert.Contains(message, error.Message);
        Assert.Single(frames); // the good frame before it was read
    }

    [Fact]
    public async Task Outcomes_wait_for_the_next_parameters_and_only_the_newest_parameters_are_kept()
    {
        var downlink = new UploadDownlink();
        var taken = new List<Outcome>();
        Assert.True(downlink.TryQueueOutcome(new Outcome { Version = 1, Kind = OutcomeKind.Kept }));
        Assert.True(downlink.TryQueueOutcome(new Outcome { Version = 1, Kind = OutcomeKind.Late }));
        var take = downlink.TakeAsync(taken, CancellationToken.None).AsTask();
        await Task.Delay(100);
        Assert.False(take.IsCompleted, "an outcome alone woke the writer");

        downlink.TryQueueParameters(Parameters(2));
        downlink.TryQueueParameters(Parameters(3));
        var (any, parameters) = await take.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(any);
        Assert.Equal(3, parameters!.Parameters.Version);
        Assert.Equal([OutcomeKind.Kept, OutcomeKind.Late], taken.Select(o => o.Kind));

        // Flush wakes the writer for outcomes alone (the run's end).
        downlink.TryQueueOutcome(new Outcome { Version = 3, Kind = OutcomeKind.Dropped });
        downlink.Flush();
        (any, parameters) = await downlink.TakeAsync(taken, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(any);
        Assert.Null(parameters);
        Assert.Equal(3, Assert.Single(taken).Version);
    }

    [Fact]
    public async Task A_worker_that_stops_reading_holds_at_most_the_bound_of_outcomes_and_the_newest_are_kept()
    {
        var downlink = new UploadDownlink();
        var random = new Random(7);
        var count = UploadDownlink.MaxPendingOutcomes + random.Next(1, 1000);
        for (var v = 0; v < count; v++)
        {
            Assert.True(downlink.TryQueueOutcome(new Outcome { Version = v, Kind = OutcomeKind.Kept }));
        }

        downlink.TryQueueParameters(Parameters(count));
        var taken = new List<Outcome>();
        await downlink.TakeAsync(taken, CancellationToken.None);
        Assert.Equal(Enumerable.Range(count - UploadDownlink.MaxPendingOutcomes, UploadDownlink.MaxPendingOutcomes).Select(v => (long)v),
            taken.Select(o => o.Version));
    }

    [Fact]
    public async Task A_completed_downlink_gives_what_waits_then_ends_and_refuses_more()
    {
        var downlink = new UploadDownlink();
        downlink.TryQueueParameters(Parameters(1));
        downlink.Complete();
        Assert.False(downlink.TryQueueParameters(Parameters(2)));
        Assert.False(downlink.TryQueueOutcome(new Outcome { Version = 1 }));
        var taken = new List<Outcome>();
        var (any, parameters) = await downlink.TakeAsync(taken, CancellationToken.None);
        Assert.True(any);
        Assert.Equal(1, parameters!.Parameters.Version);
        (any, _) = await downlink.TakeAsync(taken, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(any);
    }

    private static ServerMessage Parameters(long version) =>
        new() { Parameters = new Dstar.Cluster.Protocol.Parameters { Version = version, Data = FloatWire.Encode(new float[D]) } };

    private static void WriteFrame(Stream stream, long version, UploadFrames.DownKind kind, byte[] payload)
    {
        var header = new byte[UploadFrames.HeaderLength];
        UploadFrames.Write(new UploadFrames.DownHeader(version, kind, payload.Length), header);
        stream.Write(header);
        stream.Write(payload);
    }

    /// <summary>The frames as the worker reads them, each x_t in a buffer of its own (the reader reuses the one it is given).</summary>
    private static IEnumerable<DownFrame> ReadAll(Stream stream)
    {
        var reader = new DownReader(stream, D);
        while (reader.Read(new byte[D * FloatWire.BytesPerValue]) is { } frame)
        {
            yield return frame;
        }
    }

    /// <summary>A stream whose reads return at most <c>maxRead</c> bytes, as a socket may cut a write anywhere.</summary>
    private sealed class ChunkedStream(Stream inner, int maxRead) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, maxRead));
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
