using System.Collections.Frozen;

namespace Dstar.View.Server;

/// <summary>The page's script, style sheet and the bundled uPlot, read once from the assembly's embedded resources.</summary>
internal static class StaticFiles
{
    private static readonly FrozenDictionary<string, (byte[] Content, string Type)> Files = Load();

    /// <summary>The file served at <paramref name="path"/> (e.g. "/app.js"), or false.</summary>
    public static bool TryGet(string path, out byte[] content, out string contentType)
    {
        if (Files.TryGetValue(path, out var file))
        {
            (content, contentType) = file;
            return true;
        }

        (content, contentType) = (Array.Empty<byte>(), "");
        return false;
    }

    private static FrozenDictionary<string, (byte[], string)> Load()
    {
        const string prefix = "wwwroot/";
        var assembly = typeof(StaticFiles).Assembly;
        var files = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            var path = "/" + name[prefix.Length..].Replace('\\', '/');
            files[path] = (memory.ToArray(), ContentType(path));
        }

        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentType(string path) => Path.GetExtension(path) switch
    {
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".html" => "text/html; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    };
}
