using Dstar.Engine.Configuration;
using Xunit;

namespace Dstar.Engine.Tests.Configuration;

public class ConfigFingerprintTests
{
    [Fact]
    public void Fingerprint_holds_what_a_worker_must_share_and_leaves_out_server_only_keys()
    {
        var fingerprint = ConfigFingerprint.Of(new ExperimentConfig());
        foreach (var key in new[] { "seed", "data.name", "data.partition", "model", "workers", "byzantine", "attack", "delay", "batch_size", "aggregator", "k" })
        {
            Assert.Contains(key, fingerprint.Values.Keys);
        }

        foreach (var key in ConfigFingerprint.ServerOnlyKeys)
        {
            Assert.DoesNotContain(key, fingerprint.Values.Keys);
        }

        Assert.Equal(16, fingerprint.Hash.Length);
    }

    [Fact]
    public void Differences_name_each_differing_key_with_both_values()
    {
        var server = ConfigFingerprint.Of(new ExperimentConfig());
        var worker = ConfigFingerprint.Of(new ExperimentConfig { Seed = 2, Workers = 21, LearningRate = 9, Rounds = 3 });
        Assert.Equal(["seed: '1' ≠ '2'", "workers: '20' ≠ '21'"], server.Differences(worker.Values));
        Assert.NotEqual(server.Hash, worker.Hash);
        Assert.Equal(server.Values.Count, server.Differences(new Dictionary<string, string>()).Count);
    }

    [Fact]
    public void Specs_are_compared_in_canonical_form()
    {
        var a = ConfigFingerprint.Of(new ExperimentConfig { Aggregator = "krum  f=3" });
        var b = ConfigFingerprint.Of(new ExperimentConfig { Aggregator = "krum f=3" });
        Assert.Empty(a.Differences(b.Values));
        Assert.Equal(a.Hash, b.Hash);
    }
}
