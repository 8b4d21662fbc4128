using System.Buffers.Binary;
using System.IO.Compression;
using Dstar.Learning.Data;
using Xunit;

namespace Dstar.Learning.Tests;

public sealed class DataFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dstar-data-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static byte[] Idx(int[] dimensions, byte[] data, byte type = 0x08)
    {
        var bytes = new byte[4 + 4 * dimensions.Length + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)dimensions.Length;
        for (int i = 0; i < dimensions.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dimensions[i]);
        }

        data.CopyTo(bytes, 4 + 4 * dimensions.Length);
        return bytes;
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(bytes);
        }

        return output.ToArray();
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Idx_reads_dimensions_and_data_raw_or_gzip(bool gzip)
    {
        var data = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)i).ToArray();
        var bytes = Idx([2, 3, 4], data);
        var path = Write("x.idx", gzip ? Gzip(bytes) : bytes);
        var (dimensions, read) = IdxFile.Read(path);
        Assert.Equal([2, 3, 4], dimensions);
        Assert.Equal(data, read);
    }

    [Fact]
    public void Idx_names_the_file_and_the_problem()
    {
        var good = Idx([4, 2], new byte[8]);
        string Problem(byte[] bytes) => Assert.Throws<DataFileException>(() => IdxFile.Read(Write("bad.idx", bytes))).Message;

        Assert.Contains("bad.idx", Problem(good[..^1]));
        Assert.Contains("truncated", Problem(good[..^1]));
        Assert.Contains("trailing", Problem([.. good, 0]));
        Assert.Contains("not an IDX file", Problem([1, 2, 8, 1, 0, 0, 0, 1, 0]));
        Assert.Contains("0x0D", Problem(Idx([2], new byte[8], type: 0x0D)));
        Assert.Contains("truncated", Problem(good[..6]));
        Assert.Contains("dimension 0 is 0", Problem(Idx([0, 2], [])));
        Assert.Contains("gzip", Problem(Gzip(good)[..20]));
        var missing = Assert.Throws<DataFileException>(() => IdxFile.Read(Path.Combine(_directory, "none.idx")));
        Assert.Contains("none.idx", missing.Message);
    }

    private void WriteMnist(int train, int test, int trainLabels = -1, byte badLabel = 0)
    {
        var random = new Random(1);
        byte[] Pixels(int n)
        {
            var p = new byte[n * 28 * 28];
            random.NextBytes(p);
            return p;
        }

        byte[] Labels(int n) => Enumerable.Range(0, n).Select(i => i == 0 && badLabel > 0 ? badLabel : (byte)(i % 10)).ToArray();
        Write("train-images-idx3-ubyte.gz", Gzip(Idx([train, 28, 28], Pixels(train))));
        Write("train-labels-idx1-ubyte.gz", Gzip(Idx([trainLabels < 0 ? train : trainLabels], Labels(trainLabels < 0 ? train : trainLabels))));
        Write("t10k-images-idx3-ubyte", Idx([test, 28, 28], Pixels(test)));
        Write("t10k-labels-idx1-ubyte", Idx([test], Labels(test)));
    }

    [Fact]
    public void Mnist_layout_loads_from_gzip_and_raw_files()
    {
        WriteMnist(20, 7);
        var data = DatasetCatalog.Load("mnist", _directory);
        Assert.Equal(20, data.Train.Count);
        Assert.Equal(7, data.Test.Count);
        Assert.Equal([1, 28, 28], data.Train.SampleShape);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => i % 10), data.Train.Labels.ToArray());
        Assert.Contains(_directory, data.Description);
        Assert.Contains("20 train, 7 test", data.Description);

        // Features are (pixel/255 − mean)/std of the raw bytes.
        var image = (ImageDataset)data.Train;
        var features = new float[784];
        image.WriteFeatures(3, features);
        Assert.Equal((image.Pixels(3)[100] / 255f - 0.1307f) / 0.3081f, features[100], 5);
    }

    [Fact]
    public void Mnist_with_mismatched_counts_names_the_labels_file()
    {
        WriteMnist(20, 7, trainLabels: 19);
        var e = Assert.Throws<DataFileException>(() => DatasetCatalog.Load("mnist", _directory));
        Assert.Contains("train-labels-idx1-ubyte.gz", e.Message);
        Assert.Contains("19 labels", e.Message);
        Assert.Contains("20 images", e.Message);
    }

    [Fact]
    public void Mnist_with_a_label_above_9_is_refused()
    {
        WriteMnist(20, 7, badLabel: 12);
        var e = Assert.Throws<DataFileException>(() => DatasetCatalog.Load("mnist", _directory));
        Assert.Contains("label 12", e.Message);
    }

    private void WriteCifar(int perBatch, int test, Action<byte[]>? spoil = null)
    {
        var random = new Random(2);
        for (int b = 0; b < 6; b++)
        {
            int count = b < 5 ? perBatch : test;
            var bytes = new byte[count * Cifar10Format.RecordSize];
            random.NextBytes(bytes);
            for (int i = 0; i < count; i++)
            {
                bytes[i * Cifar10Format.RecordSize] = (byte)((i + b) % 10);
            }

            if (b == 2)
            {
                spoil?.Invoke(bytes);
            }

            Write(Cifar10Format.Files[b], bytes);
        }
    }

    [Fact]
    public void Cifar10_reads_labels_and_channel_planes()
    {
        WriteCifar(4, 3);
        var data = DatasetCatalog.Load("cifar10", _directory);
        Assert.Equal(20, data.Train.Count);
        Assert.Equal(3, data.Test.Count);
        Assert.Equal([3, 32, 32], data.Train.SampleShape);
        Assert.Equal([0, 1, 2, 3, 1, 2, 3, 4], data.Train.Labels[..8].ToArray());
        var raw = File.ReadAllBytes(Path.Combine(_directory, "data_batch_2.bin"));
        var image = (ImageDataset)data.Train;
        Assert.Equal(raw.AsSpan(Cifar10Format.RecordSize + 1, 3072).ToArray(), image.Pixels(5).ToArray());
        var features = new float[3072];
        image.WriteFeatures(5, features);
        Assert.Equal((raw[Cifar10Format.RecordSize + 1 + 2048] / 255f - 0.4465f) / 0.2616f, features[2048], 5);
    }

    [Fact]
    public void Cifar10_truncated_batch_is_named()
    {
        WriteCifar(4, 3);
        var path = Path.Combine(_directory, "data_batch_3.bin");
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..^10]);
        var e = Assert.Throws<DataFileException>(() => DatasetCatalog.Load("cifar10", _directory));
        Assert.Contains("data_batch_3.bin", e.Message);
        Assert.Contains("whole number", e.Message);
    }

    [Fact]
    public void Cifar10_bad_label_is_named()
    {
        WriteCifar(4, 3, bytes => bytes[Cifar10Format.RecordSize] = 11);
        var e = Assert.Throws<DataFileException>(() => DatasetCatalog.Load("cifar10", _directory));
        Assert.Contains("data_batch_3.bin", e.Message);
        Assert.Contains("label 11 of record 1", e.Message);
    }

    [Fact]
    public void Explicit_data_directory_without_the_files_is_an_error_not_a_fallback()
    {
        var e = Assert.Throws<DataFileException>(() => DataLocator.Locate("fashion-mnist", _directory, environmentRoot: ""));
        Assert.Contains("data.dir: no fashion-mnist files here", e.Message);
        Assert.Contains(_directory, e.Message);
    }

    [Fact]
    public void Missing_data_directory_is_named_with_its_key()
    {
        var missing = Path.Combine(_directory, "not-there");
        var e = Assert.Throws<DataFileException>(() => DataLocator.Locate("mnist", missing, environmentRoot: ""));
        Assert.Equal($"{missing}: data.dir: no such directory", e.Message);
    }

    [Fact]
    public void Data_root_may_hold_the_data_set_in_a_named_subfolder()
    {
        var sub = Directory.CreateDirectory(Path.Combine(_directory, "mnist")).FullName;
        File.Copy(Path.Combine(DataLocator.BundledSampleCandidates().First(Directory.Exists), "t10k-labels-idx1-ubyte.gz"), Path.Combine(sub, "x"));
        foreach (var f in MnistFormat.Files)
        {
            File.WriteAllBytes(Path.Combine(sub, f), []);
        }

        var fromEnvironment = DataLocator.Locate("mnist", null, environmentRoot: _directory);
        Assert.Equal(sub, fromEnvironment.Directory);
        Assert.Equal("DSTAR_DATA", fromEnvironment.Origin);
    }

    [Fact]
    public void Fashion_mnist_falls_back_to_the_full_Debian_set_or_the_bundled_sample()
    {
        var location = DataLocator.Locate("fashion-mnist", null, environmentRoot: _directory);
        if (MnistFormat.IsPresent(DataLocator.DebianFashionMnist))
        {
            Assert.Equal(DataLocator.DebianFashionMnist, location.Directory);
        }
        else
        {
            Assert.Equal("bundled sample", location.Origin);
            Assert.StartsWith(AppContext.BaseDirectory, location.Directory + Path.DirectorySeparatorChar);
        }
    }

    [Fact]
    public void Bundled_sample_is_copied_next_to_the_tests_and_is_class_balanced()
    {
        var directory = Path.Combine(AppContext.BaseDirectory, DataLocator.BundledSampleFolder);
        Assert.True(File.Exists(Path.Combine(directory, "LICENSE")), "the MIT notice travels with the sample");
        var (train, test) = MnistFormat.Load(directory, "fashion-mnist", 0.286f, 0.353f);
        Assert.All(train.ClassCounts(), c => Assert.Equal(600, c));
        Assert.All(test.ClassCounts(), c => Assert.Equal(100, c));
    }

    [Fact]
    public void Unknown_data_set_lists_the_valid_ones()
    {
        var e = Assert.Throws<Dstar.Core.Specs.SpecException>(() => DatasetCatalog.Load("imagenet"));
        Assert.Contains("fashion-mnist", e.Message);
        Assert.Contains("cifar10", e.Message);
    }
}
