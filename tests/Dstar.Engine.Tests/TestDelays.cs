using Dstar.Core.Stragglers;

namespace Dstar.Engine.Tests;

/// <summary>Response time uniform on [low, high), from the round's delay stream (a test fixture, not a shipped model).</summary>
internal sealed class UniformDelay(double low = 1, double high = 2) : IDelayModel
{
    public string Name => "uniform";

    public double Sample(int worker, int round, Random random) => low + (high - low) * random.NextDouble();
}

/// <summary>Worker <c>crashed</c> never answers from round <c>from</c> on; everyone else as <c>inner</c>.</summary>
internal sealed class CrashAfter(IDelayModel inner, int crashed, int from) : IDelayModel
{
    public string Name => "crash-after";

    public double Sample(int worker, int round, Random random)
    {
        var time = inner.Sample(worker, round, random);
        return worker == crashed && round >= from ? double.PositiveInfinity : time;
    }
}
