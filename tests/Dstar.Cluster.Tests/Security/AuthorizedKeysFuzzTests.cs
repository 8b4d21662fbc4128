using Dstar.Cluster.Protocol;
using Dstar.Cluster.Security;
using Google.Protobuf;

namespace Dstar.Cluster.Tests.Security;

/// <summary>
/// Random and adversarial authorized-keys files and wire messages (seeded, a fixed number of cases): a file is either
/// loaded or refused with <see cref="FormatException"/> naming its line; a message either decodes or is refused with
/// <see cref="InvalidProtocolBufferException"/>; neither allocates much more than its input.
/// </summary>
public class AuthorizedKeysFuzzTests
{
    private const int Cases = 300;

    [Fact]
    public void Random_authorized_keys_files_are_loaded_or_refused_naming_the_line()
    {
        var random = new Random(11);
        using var real = WorkerKey.Generate();
        var good = WorkerKey.PublicKeyBase64(real);
        string[] ids = ["0", "1", "-1", "2147483648", "x", "", "00", "+3", "1e3", "٣"];
        string[] keys = [good, good[..^4], good + "AAAA", "not-base64!", "", "AAAA", Convert.ToBase64String(new byte[91]), good.ToLowerInvariant()];
        for (int i = 0; i < Cases; i++)
        {
            var lines = Enumerable.Range(0, random.Next(0, 6)).Select(_ => random.Next(6) switch
            {
                0 => "# comment " + random.Next(),
                1 => new string((char)random.Next(0, 0x3000), random.Next(0, 50)),
                _ => $"{ids[random.Next(ids.Length)]}{(random.Next(4) == 0 ? "\t" : " ")}{keys[random.Next(keys.Length)]}{(random.Next(3) == 0 ? " trailing comment" : "")}",
            }).ToArray();
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                using var loaded = AuthorizedKeys.Parse(lines, "fuzz");
                Assert.NotEmpty(loaded.WorkerIds);
            }
            catch (FormatException e)
            {
                Assert.StartsWith("fuzz", e.Message);
                Assert.DoesNotContain('\n', e.Message);
            }
            catch (Exception e)
            {
                Assert.Fail($"case {i}: {e.GetType().Name}: {e.Message}\n{string.Join("\n", lines)}");
            }

            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 8 << 20, $"case {i}");
        }
    }

    [Fact]
    public void Random_wire_messages_decode_or_are_refused()
    {
        var random = new Random(12);
        var hello = new WorkerMessage { Hello = new Hello { WorkerId = 3, Contract = { ["seed"] = "1", ["workers"] = "6" } } }.ToByteArray();
        var gradient = new WorkerMessage { Gradient = new Gradient { Version = 2, Data = ByteString.CopyFrom(new byte[48]) } }.ToByteArray();
        for (int i = 0; i < Cases * 3; i++)
        {
            byte[] bytes;
            if (random.Next(3) == 0)
            {
                bytes = new byte[random.Next(0, 100)];
                random.NextBytes(bytes);
            }
            else
            {
                bytes = (byte[])(random.Next(2) == 0 ? hello : gradient).Clone();
                for (int flips = random.Next(1, 4); flips > 0; flips--)
                {
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                }
            }

            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                WorkerMessage.Parser.ParseFrom(bytes);
            }
            catch (InvalidProtocolBufferException)
            {
            }

            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, $"case {i}");
        }
    }
}
