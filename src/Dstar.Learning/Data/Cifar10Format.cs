namespace Dstar.Learning.Data;

/// <summary>
/// Loads CIFAR-10's binary version (Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", 2009):
/// <c>data_batch_1.bin</c> … <c>data_batch_5.bin</c> (training) and <c>test_batch.bin</c>, each a sequence of
/// 3,073-byte records: one label byte (0..9), then 1,024 red, 1,024 green and 1,024 blue pixels of a 32×32 image
/// (row-major), which is already the [3, 32, 32] layout. Files may be gzip-compressed. Normalised with the usual
/// per-channel CIFAR-10 mean and deviation.
/// </summary>
public static class Cifar10Format
{
    /// <summary>Bytes per record.</summary>
    public const int RecordSize = 1 + 3 * 32 * 32;

    private static readonly float[] Mean = [0.4914f, 0.4822f, 0.4465f];
    private static readonly float[] Deviation = [0.2470f, 0.2435f, 0.2616f];

    /// <summary>The training files, then the test file.</summary>
    public static readonly string[] Files = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"];

    /// <summary>True when <paramref name="directory"/> holds every batch file.</summary>
    public static bool IsPresent(string directory) => Files.All(f => File.Exists(Path.Combine(directory, f)));

    /// <summary>Loads the 50,000 training and 10,000 test images (or however many the files hold).</summary>
    /// <exception cref="DataFileException">a file is missing, corrupt, not a whole number of records, or has a label above 9.</exception>
    public static (ImageDataset Train, ImageDataset Test) Load(string directory) =>
        (Read("cifar10 train", Files[..5].Select(f => Path.Combine(directory, f))),
         Read("cifar10 test", [Path.Combine(directory, Files[5])]));

    /// <summary>Reads and concatenates batch files.</summary>
    /// <exception cref="DataFileException">a file is missing, corrupt, not a whole number of records, or has a label above 9.</exception>
    public static ImageDataset Read(string name, IEnumerable<string> paths)
    {
        var pixels = new List<byte[]>();
        var labels = new List<int>();
        foreach (var path in paths)
        {
            if (!File.Exists(path))
            {
                throw new DataFileException(path, "missing");
            }

            var bytes = IdxFile.ReadAllBytes(path);
            if (bytes.Length == 0 || bytes.Length % RecordSize != 0)
            {
                throw new DataFileException(path, $"{bytes.Length} bytes is not a whole number of {RecordSize}-byte CIFAR-10 records (truncated or not a CIFAR-10 batch)");
            }

            int count = bytes.Length / RecordSize;
            var images = new byte[count * (RecordSize - 1)];
            for (int i = 0; i < count; i++)
            {
                int label = bytes[i * RecordSize];
                if (label > 9)
                {
                    throw new DataFileException(path, $"label {label} of record {i} is outside 0..9 (not a CIFAR-10 batch; CIFAR-100 has two label bytes)");
                }

                labels.Add(label);
                Buffer.BlockCopy(bytes, i * RecordSize + 1, images, i * (RecordSize - 1), RecordSize - 1);
            }

            pixels.Add(images);
        }

        var all = new byte[pixels.Sum(p => (long)p.Length)];
        long offset = 0;
        foreach (var part in pixels)
        {
            Buffer.BlockCopy(part, 0, all, (int)offset, part.Length);
            offset += part.Length;
        }

        return new ImageDataset(name, all, 3, 32, 32, labels.ToArray(), 10, Mean, Deviation);
    }
}
