using Xunit;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Dstar.Cli.Tests.Deployment;

/// <summary>Reads the repository's deployment files (deploy/) as plain YAML trees: mappings, lists and strings.</summary>
internal static class Manifests
{
    /// <summary>The repository root: the first directory above the test binaries that holds dstar.sln.</summary>
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>Every document of a (multi-document) YAML file.</summary>
    public static List<Dictionary<object, object>> Load(string relative) => Parse(File.ReadAllText(PathOf(relative)));

    public static List<Dictionary<object, object>> Parse(string yaml)
    {
        var deserializer = new DeserializerBuilder().Build();
        var parser = new MergingParser(new Parser(new StringReader(yaml))); // compose files use merge keys (<<: *anchor)
        parser.Consume<StreamStart>();
        var documents = new List<Dictionary<object, object>>();
        while (parser.Accept<DocumentStart>(out _))
        {
            if (deserializer.Deserialize<Dictionary<object, object>?>(parser) is { } document)
            {
                documents.Add(document);
            }
        }

        return documents;
    }

    /// <summary>The one document of <paramref name="kind"/> in <paramref name="documents"/>.</summary>
    public static Dictionary<object, object> Single(IEnumerable<Dictionary<object, object>> documents, string kind) =>
        Assert.Single(documents, d => Text(d, "kind") == kind);

    /// <summary>The node at a dotted path ("spec.template.spec"), or null.</summary>
    public static object? At(object node, string path)
    {
        foreach (var part in path.Split('.'))
        {
            if (node is not Dictionary<object, object> map || !map.TryGetValue(part, out var next))
            {
                return null;
            }

            node = next;
        }

        return node;
    }

    public static Dictionary<object, object> Map(object node, string path) =>
        At(node, path) as Dictionary<object, object> ?? throw new Xunit.Sdk.XunitException($"no mapping at {path}");

    public static List<object> List(object node, string path) =>
        At(node, path) as List<object> ?? throw new Xunit.Sdk.XunitException($"no list at {path}");

    public static string? Text(object node, string path) => At(node, path) as string;

    public static IEnumerable<Dictionary<object, object>> Maps(object node, string path) => List(node, path).Cast<Dictionary<object, object>>();

    /// <summary>The value following <paramref name="option"/> in an argument list.</summary>
    public static string ValueOf(IReadOnlyList<string> args, string option)
    {
        int index = args.ToList().IndexOf(option);
        Assert.True(index >= 0 && index + 1 < args.Count, $"{option} is not given a value in: {string.Join(' ', args)}");
        return args[index + 1];
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "dstar.sln")))
            {
                return directory.FullName;
            }
        }

        throw new FileNotFoundException("dstar.sln not found above " + AppContext.BaseDirectory);
    }
}
