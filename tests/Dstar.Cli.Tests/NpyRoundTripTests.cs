using Dstar.Cli.Npy;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Dstar.Cli.Tests;

public class NpyRoundTripTests
{
    [Property(MaxTest = 30)]
    public Property Float32_matrix_round_trips_bit_exactly(PositiveInt rows, PositiveInt cols, int seed)
    {
        int n = rows.Get % 9 + 1, d = cols.Get % 40 + 1;
        var rng = new Random(seed);
        var values = Enumerable.Range(0, n * d).Select(_ => (float)(rng.NextDouble() * 2e6 - 1e6)).ToArray();
        using var run = new CliRun();
        var path = run.PathOf("m.npy");
        NpyWriter.Write(path, values, n, d);
        var (read, readRows, readCols) = NpyReader.ReadMatrix(path);
        return (readRows == n && readCols == d && read.SequenceEqual(values)).ToProperty();
    }

    [Property(MaxTest = 30)]
    public Property Float64_matrix_reads_as_the_nearest_float32(PositiveInt rows, PositiveInt cols, int seed)
    {
        int n = rows.Get % 9 + 1, d = cols.Get % 40 + 1;
        var rng = new Random(seed);
        var values = Enumerable.Range(0, n * d).Select(_ => rng.NextDouble() * 2e6 - 1e6).ToArray();
        using var run = new CliRun();
        var path = run.PathOf("m64.npy");
        NpyWriter.Write(path, values, n, d);
        var (read, readRows, readCols) = NpyReader.ReadMatrix(path);
        return (readRows == n && readCols == d && read.SequenceEqual(values.Select(v => (float)v))).ToProperty();
    }

    [Fact]
    public void Vector_round_trips_and_keeps_non_finite_values()
    {
        float[] values = [1.5f, float.NaN, float.PositiveInfinity, -0f, float.MaxValue];
        using var run = new CliRun();
        var path = run.PathOf("v.npy");
        NpyWriter.Write(path, values, values.Length);
        var read = NpyReader.ReadVector(path, values.Length);
        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), read.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Header_is_padded_to_64_bytes_and_ends_with_a_newline()
    {
        var header = NpyWriter.Header("<f4", [16, 1000]);
        Assert.Equal(0, header.Length % 64);
        Assert.Equal((byte)'\n', header[^1]);
        Assert.Equal(header.Length - 10, BitConverter.ToUInt16(header, 8));
        Assert.Contains("'shape': (16, 1000)", System.Text.Encoding.ASCII.GetString(header));
    }

    [Fact]
    public void Big_endian_float64_is_read_in_its_byte_order()
    {
        double[] values = [1.25, -3.5, 1e10];
        var data = values.SelectMany(v => BitConverter.GetBytes(v).Reverse()).ToArray();
        using var run = new CliRun();
        var path = run.PathOf("be.npy");
        File.WriteAllBytes(path, RawNpy.Build("{'descr': '>f8', 'fortran_order': False, 'shape': (1, 3), }", data));
        var (read, n, d) = NpyReader.ReadMatrix(path);
        Assert.Equal((1, 3), (n, d));
        Assert.Equal(values.Select(v => (float)v), read);
    }

    [Fact]
    public void Version_2_header_with_a_4_byte_length_is_read()
    {
        var data = new[] { 1f, 2f }.SelectMany(BitConverter.GetBytes).ToArray();
        using var run = new CliRun();
        var path = run.PathOf("v2.npy");
        File.WriteAllBytes(path, RawNpy.Build("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data, major: 2));
        Assert.Equal(new[] { 1f, 2f }, NpyReader.ReadVector(path, 2));
    }
}

/// <summary>Builds .npy bytes from a literal header dict, for malformed-file tests.</summary>
internal static class RawNpy
{
    public static byte[] Build(string dictionary, byte[] data, int major = 1)
    {
        int lengthSize = major == 1 ? 2 : 4;
        int prefix = 8 + lengthSize;
        int padded = (prefix + dictionary.Length + 1 + 63) / 64 * 64;
        var text = dictionary.PadRight(padded - prefix - 1) + "\n";
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange("NUMPY"u8.ToArray());
        bytes.Add((byte)major);
        bytes.Add(0);
        bytes.AddRange(lengthSize == 2 ? BitConverter.GetBytes((ushort)text.Length) : BitConverter.GetBytes((uint)text.Length));
        bytes.AddRange(System.Text.Encoding.ASCII.GetBytes(text));
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    public static byte[] Floats(int count) => Enumerable.Range(0, count).SelectMany(i => BitConverter.GetBytes((float)i)).ToArray();
}
