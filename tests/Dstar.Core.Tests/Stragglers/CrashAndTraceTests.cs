using Dstar.Core.Specs;
using Dstar.Core.Stragglers;
using Xunit;

namespace Dstar.Core.Tests.Stragglers;

public sealed class CrashAndTraceTests
{
    private readonly MemoryFiles _files = new();

    private string Write(string name, string content)
    {
        _files.Contents[name] = content;
        return name;
    }

    /// <summary>Files held in memory: Dstar.Core reads files only through the reader the host gives it.</summary>
    private sealed class MemoryFiles : ISpecFiles
    {
        public Dictionary<string, string> Contents { get; } = new();

        public IReadOnlyList<string> ReadLines(string path) =>
            Contents.TryGetValue(path, out var text) ? text.Split('\n') : throw new SpecException($"cannot read file '{path}': no such file");
    }

    [Fact]
    public void Crashed_workers_never_answer_from_round_r_on_and_others_are_unchanged()
    {
        var crash = new Crash(round: 10, workers: [0, 3], baseModel: new ShiftedExponential());
        var plain = new ShiftedExponential();
        var crashRandom = new Random(4);
        var plainRandom = new Random(4);
        for (int round = 0; round < 20; round++)
        {
            for (int worker = 0; worker < 5; worker++)
            {
                double time = crash.Sample(worker, round, crashRandom);
                double expected = plain.Sample(worker, round, plainRandom);
                if (round >= 10 && worker is 0 or 3)
                {
                    Assert.Equal(double.PositiveInfinity, time);
                }
                else
                {
                    Assert.Equal(expected, time);
                }
            }
        }
    }

    [Fact]
    public void Crash_spec_wraps_a_base_spec_written_with_colons()
    {
        var crash = (Crash)Registry.Delays.Create("crash round=2 workers=1 base=pareto:xm=3:alpha=2");
        var pareto = Assert.IsType<Pareto>(crash.Base);
        Assert.Equal((3.0, 2.0), (pareto.Scale, pareto.Shape));
        Assert.Equal(2, crash.Round);
        Assert.Equal(new[] { 1 }, crash.Workers.ToArray());
        Assert.IsType<ShiftedExponential>(((Crash)Registry.Delays.Create("crash round=0 workers=0,2")).Base);
        Assert.Equal(double.PositiveInfinity, crash.Sample(1, 2, new Random(0)));
        Assert.True(crash.Sample(1, 1, new Random(0)) >= 3);
    }

    [Theory]
    [InlineData("crash workers=1", "round=R")]
    [InlineData("crash round=3", "workers=")]
    [InlineData("crash round=-1 workers=1", "round=-1")]
    [InlineData("crash round=1 workers=1,x", "workers=1,x")]
    [InlineData("crash round=1 workers=-2", "workers=-2")]
    [InlineData("crash round=1 workers=1 base=warp", "unknown delay model 'warp'")]
    [InlineData("crash round=1 workers=1 base=pareto:alpha=-1", "alpha=-1")]
    public void Crash_spec_errors_name_the_problem(string spec, string expected)
    {
        var e = Assert.Throws<SpecException>(() => Registry.Delays.Create(spec));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Trace_round_trips_a_csv_file()
    {
        var path = Write("times.csv", "# recorded on 4 workers\nw0,w1,w2,w3\n1.5,2,0.25,inf\n\n3,1e-1,7,8\n");
        var trace = (Trace)Registry.Delays.Create($"trace file={path} header=true", _files);
        Assert.Equal((2, 4), (trace.Rounds, trace.Workers));
        var random = new Random(0);
        Assert.Equal(new[] { 1.5, 2, 0.25, double.PositiveInfinity }, Enumerable.Range(0, 4).Select(w => trace.Sample(w, 0, random)));
        Assert.Equal(new[] { 3, 0.1, 7, 8 }, Enumerable.Range(0, 4).Select(w => trace.Sample(w, 1, random)));
    }

    [Fact]
    public void Trace_past_its_end_errors_by_default_and_wraps_when_asked()
    {
        var path = Write("short.csv", "1,2\n3,4\n");
        var strict = Registry.Delays.Create($"trace file={path}", _files);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => strict.Sample(0, 2, new Random(0)));
        Assert.Contains("holds 2 rounds", e.Message);
        Assert.Contains("after-end=wrap", e.Message);
        var wrapping = Registry.Delays.Create($"trace file={path} after-end=wrap", _files);
        Assert.Equal(3, wrapping.Sample(0, 5, new Random(0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => wrapping.Sample(2, 0, new Random(0)));
    }

    [Theory]
    [InlineData("1,2\n3,x\n", "line 2, column 2: 'x'")]
    [InlineData("1,2\n3,-4\n", "line 2, column 2: '-4'")]
    [InlineData("1,2\n3,NaN\n", "'NaN'")]
    [InlineData("1,2\n3\n", "line 2 has 1 columns")]
    [InlineData("# only a comment\n", "no data lines")]
    public void Malformed_trace_files_are_refused_with_line_and_column(string content, string expected)
    {
        var path = Write("bad.csv", content);
        var e = Assert.Throws<SpecException>(() => Registry.Delays.Create($"trace file={path}", _files));
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Missing_trace_file_missing_path_and_missing_reader_are_refused()
    {
        var e = Assert.Throws<SpecException>(() => Registry.Delays.Create("trace file=nope.csv", _files));
        Assert.Contains("cannot read file 'nope.csv'", e.Message);
        Assert.Contains("file=PATH", Assert.Throws<SpecException>(() => Registry.Delays.Create("trace", _files)).Message);
        var noReader = Assert.Throws<SpecException>(() => Registry.Delays.Create("trace file=times.csv"));
        Assert.Contains("no file reader was given", noReader.Message);
    }

    [Fact]
    public void A_crash_over_a_trace_reads_the_trace_through_the_same_reader()
    {
        Write("base.csv", "1,2,3\n4,5,6\n");
        var crash = Registry.Delays.Create("crash round=1 workers=2 base=trace:file=base.csv", _files);
        Assert.Equal(2, crash.Sample(1, 0, new Random(0)));
        Assert.Equal(double.PositiveInfinity, crash.Sample(2, 1, new Random(0)));
        Assert.Equal(4, crash.Sample(0, 1, new Random(0)));
    }
}
