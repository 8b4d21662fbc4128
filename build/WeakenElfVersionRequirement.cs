// Inline MSBuild task (RoslynCodeTaskFactory) used by TorchSharpDebian12.targets. No dependencies beyond the BCL.
//
// Marks one symbol-version requirement of an ELF64 little-endian shared library as WEAK, so that the dynamic loader
// accepts the library when the system does not provide that version. Layout per the System V gABI and the LSB
// "Symbol Versioning" chapter: the section of type SHT_GNU_verneed (.gnu.version_r) holds a chain of Verneed records
// (one per needed library), each with a chain of Vernaux records (one per needed version); sh_link of that section is
// the string table (.dynstr) the names index into; sh_info is the number of Verneed records.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class DstarWeakenElfVersionRequirement : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    [Required]
    public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    [Required]
    public string VersionName { get; set; } = "";

    public override bool Execute()
    {
        foreach (var item in Files)
        {
            var path = item.GetMetadata("FullPath");
            try
            {
                var outcome = Patch(path, VersionName);
                Log.LogMessage(MessageImportance.Low, "{0}: {1}", path, outcome);
            }
            catch (InvalidDataException e)
            {
                Log.LogError("Cannot make the {0} requirement of '{1}' weak: {2}", VersionName, path, e.Message);
            }
            catch (IOException e)
            {
                Log.LogError("Cannot patch '{0}': {1}", path, e.Message);
            }
            catch (UnauthorizedAccessException e)
            {
                Log.LogError("Cannot patch '{0}': {1}", path, e.Message);
            }
        }

        return !Log.HasLoggedErrors;
    }

    private static string Patch(string path, string versionName)
    {
        var bytes = File.ReadAllBytes(path);
        var flagsOffset = FindVernauxFlags(bytes, versionName);
        ushort flags = U16(bytes, flagsOffset);
        if ((flags & VerFlagWeak) != 0)
        {
            return "already weak";
        }

        flags |= VerFlagWeak;

        // Patch a fresh copy and rename it over the output file: if the output is a hard or symbolic link into the
        // NuGet cache, only the output's directory entry changes, never the cached library. File.Copy keeps the Unix
        // file mode; File.Replace is a rename.
        var timestamp = File.GetLastWriteTimeUtc(path);
        var temporary = path + ".dstar-patch.tmp";
        File.Copy(path, temporary, overwrite: true);
        using (var stream = new FileStream(temporary, FileMode.Open, FileAccess.Write))
        {
            stream.Position = flagsOffset;
            stream.WriteByte((byte)flags);
            stream.WriteByte((byte)(flags >> 8));
        }

        File.Replace(temporary, path, destinationBackupFileName: null);
        // Keeping the timestamp lets the SDK's incremental copy (same size and time) skip the file next build.
        File.SetLastWriteTimeUtc(path, timestamp);
        return "marked weak";
    }

    /// <summary>The file offset of vna_flags of the Vernaux entry named <paramref name="versionName"/>.</summary>
    private static int FindVernauxFlags(byte[] b, string versionName)
    {
        if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F')
        {
            throw new InvalidDataException("not an ELF file (bad magic or shorter than an ELF header)");
        }

        if (b[4] != 2)
        {
            throw new InvalidDataException($"not ELF64 (EI_CLASS = {b[4]}, expected 2)");
        }

        if (b[5] != 1)
        {
            throw new InvalidDataException($"not little-endian (EI_DATA = {b[5]}, expected 1)");
        }

        long sectionTable = (long)U64(b, 0x28);
        int entrySize = U16(b, 0x3A);
        int sectionCount = U16(b, 0x3C);
        if (sectionTable <= 0 || sectionCount == 0 || entrySize < 64 || sectionTable + (long)sectionCount * entrySize > b.Length)
        {
            throw new InvalidDataException(
                $"section header table (offset {sectionTable}, {sectionCount} entries of {entrySize} bytes) is missing or outside the file ({b.Length} bytes)");
        }

        int verneed = -1;
        for (int i = 0; i < sectionCount; i++)
        {
            int header = checked((int)(sectionTable + (long)i * entrySize));
            if (U32(b, header + 4) == ShtGnuVerneed)
            {
                if (verneed >= 0)
                {
                    throw new InvalidDataException("more than one SHT_GNU_verneed section");
                }

                verneed = header;
            }
        }

        if (verneed < 0)
        {
            throw new InvalidDataException("no .gnu.version_r (SHT_GNU_verneed) section");
        }

        long needOffset = (long)U64(b, verneed + 0x18);
        long needSize = (long)U64(b, verneed + 0x20);
        int stringSection = (int)U32(b, verneed + 0x28);
        int needCount = (int)U32(b, verneed + 0x2C);
        if (needOffset < 0 || needSize < 0 || needOffset + needSize > b.Length)
        {
            throw new InvalidDataException(".gnu.version_r lies outside the file");
        }

        if (stringSection <= 0 || stringSection >= sectionCount)
        {
            throw new InvalidDataException($".gnu.version_r links to string table section {stringSection}, which does not exist");
        }

        int stringHeader = checked((int)(sectionTable + (long)stringSection * entrySize));
        long stringsOffset = (long)U64(b, stringHeader + 0x18);
        long stringsSize = (long)U64(b, stringHeader + 0x20);
        if (stringsOffset < 0 || stringsSize < 0 || stringsOffset + stringsSize > b.Length)
        {
            throw new InvalidDataException("the .dynstr string table lies outside the file");
        }

        long end = needOffset + needSize;
        long need = needOffset;
        var seen = new StringBuilder();
        for (int n = 0; n < needCount; n++)
        {
            if (need < needOffset || need + 16 > end)
            {
                throw new InvalidDataException($"Verneed record {n} at offset {need} lies outside .gnu.version_r");
            }

            int auxCount = U16(b, (int)need + 2);
            long aux = need + U32(b, (int)need + 8);
            for (int a = 0; a < auxCount; a++)
            {
                if (aux < needOffset || aux + 16 > end)
                {
                    throw new InvalidDataException($"Vernaux record {a} of Verneed {n} at offset {aux} lies outside .gnu.version_r");
                }

                var name = ReadString(b, stringsOffset, stringsSize, U32(b, (int)aux + 8));
                if (name == versionName)
                {
                    return (int)aux + 4; // vna_hash (4 bytes), then vna_flags
                }

                seen.Append(seen.Length == 0 ? "" : ", ").Append(name);
                uint nextAux = U32(b, (int)aux + 12);
                if (nextAux == 0)
                {
                    break;
                }

                aux += nextAux;
            }

            uint nextNeed = U32(b, (int)need + 12);
            if (nextNeed == 0)
            {
                break;
            }

            need += nextNeed;
        }

        throw new InvalidDataException($"it has no {versionName} version requirement (found: {seen})");
    }

    private static string ReadString(byte[] b, long tableOffset, long tableSize, uint index)
    {
        if (index >= tableSize)
        {
            throw new InvalidDataException($"string index {index} is outside .dynstr ({tableSize} bytes)");
        }

        int start = checked((int)(tableOffset + index));
        int stop = start;
        int limit = checked((int)(tableOffset + tableSize));
        while (stop < limit && b[stop] != 0)
        {
            stop++;
        }

        if (stop == limit)
        {
            throw new InvalidDataException($"string at .dynstr index {index} is not terminated");
        }

        return Encoding.ASCII.GetString(b, start, stop - start);
    }

    private static ushort U16(byte[] b, int o) => o < 0 || o + 2 > b.Length ? throw Outside(o) : (ushort)(b[o] | b[o + 1] << 8);

    private static uint U32(byte[] b, int o) => o < 0 || o + 4 > b.Length ? throw Outside(o) : BitConverter.ToUInt32(b, o);

    private static ulong U64(byte[] b, int o) => o < 0 || o + 8 > b.Length ? throw Outside(o) : BitConverter.ToUInt64(b, o);

    private static InvalidDataException Outside(int offset) => new($"truncated: a header field at offset {offset} lies past the end of the file");
}
