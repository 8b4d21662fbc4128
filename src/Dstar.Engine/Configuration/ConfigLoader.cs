using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Dstar.Engine.Configuration;

/// <summary>
/// Reads an experiment: a YAML file (nested mappings become dotted keys: <c>data: {name: mnist}</c> is
/// <c>data.name</c>), then <c>--set key=value</c> overrides (the value is read as YAML, so <c>pre=[nnm, "clip c=1"]</c>
/// gives a list), then one validation pass that reports every bad field. Writes the resolved config back as YAML.
/// </summary>
public static class ConfigLoader
{
    /// <summary>The key of a problem of the YAML text as a whole (not valid YAML, too large, not a mapping).</summary>
    public const string FileKey = "(file)";

    /// <summary>Loads, overrides and validates.</summary>
    /// <param name="yaml">The YAML text, or null for the defaults.</param>
    /// <param name="overrides"><c>key=value</c> strings, applied in order after the file.</param>
    /// <exception cref="ConfigException">unknown keys, unparsable values or invalid fields — all of them at once.</exception>
    public static ExperimentConfig Load(string? yaml, IEnumerable<string>? overrides = null)
    {
        var (config, errors) = Bind(yaml, overrides);
        var all = errors.Concat(ConfigValidator.Validate(config)).ToArray();
        if (all.Length > 0)
        {
            throw new ConfigException(all);
        }

        return config;
    }

    /// <summary>
    /// Reads the YAML and overrides into a config without the semantic checks of <see cref="ConfigValidator"/>:
    /// returns the config and the syntax problems (malformed YAML, unknown keys, values of the wrong type).
    /// </summary>
    public static (ExperimentConfig Config, IReadOnlyList<ConfigError> Errors) Bind(string? yaml, IEnumerable<string>? overrides = null)
    {
        var errors = new List<ConfigError>();
        var values = new Dictionary<string, ConfigValue>(StringComparer.Ordinal);
        var order = new List<string>();
        if (yaml is not null && yaml.Length > ConfigLimits.MaxDocumentBytes)
        {
            errors.Add(new ConfigError(FileKey, "", $"{yaml.Length} characters: the limit is {ConfigLimits.MaxDocumentBytes}"));
        }
        else if (!string.IsNullOrWhiteSpace(yaml))
        {
            try
            {
                if (YamlBounds.Check(yaml) is { } tooLarge)
                {
                    throw new ConfigException([new ConfigError(FileKey, "", tooLarge)]);
                }

                var stream = new YamlStream();
                stream.Load(new StringReader(yaml));
                if (stream.Documents.Count > 0)
                {
                    if (stream.Documents[0].RootNode is YamlMappingNode root)
                    {
                        Flatten(root, "", values, order, errors);
                    }
                    else
                    {
                        errors.Add(new ConfigError(FileKey, "", "the top level must be a mapping of key: value"));
                    }
                }
            }
            catch (ConfigException e)
            {
                errors.AddRange(e.Errors);
            }
            catch (YamlException e)
            {
                errors.Add(new ConfigError(FileKey, "", $"not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}"));
            }
            catch (InvalidOperationException e)
            {
                // YamlDotNet reports some unterminated structures this way, without a position.
                errors.Add(new ConfigError(FileKey, "", $"not valid YAML: {e.Message}"));
            }
        }

        foreach (var item in overrides ?? Array.Empty<string>())
        {
            if (item.Length > ConfigLimits.MaxOverrideLength)
            {
                errors.Add(new ConfigError("--set", item, $"{item.Length} characters: the limit is {ConfigLimits.MaxOverrideLength}"));
                continue;
            }

            int eq = item.IndexOf('=');
            if (eq <= 0)
            {
                errors.Add(new ConfigError("--set", item, "expected key=value"));
                continue;
            }

            var key = item[..eq].Trim();
            if (ParseValue(item[(eq + 1)..], out var value) is { } why)
            {
                errors.Add(new ConfigError(key, item[(eq + 1)..], why));
                continue;
            }

            if (!values.ContainsKey(key))
            {
                order.Add(key);
            }

            values[key] = value;
        }

        var known = ConfigKeys.All.ToDictionary(k => k.Name, StringComparer.Ordinal);
        var config = new ExperimentConfig();
        foreach (var key in order)
        {
            var value = values[key];
            if (!known.TryGetValue(key, out var entry))
            {
                errors.Add(new ConfigError(key, value.ToString(), "unknown key (valid: " + string.Join(", ", known.Keys) + ")"));
                continue;
            }

            try
            {
                config = entry.Read(config, value);
            }
            catch (FormatException e)
            {
                errors.Add(new ConfigError(key, value.ToString(), e.Message));
            }
        }

        return (config, errors);
    }

    /// <summary>Loads a file (or the defaults when <paramref name="path"/> is null), then overrides and validates.</summary>
    /// <param name="path">The YAML file, or null for the defaults.</param>
    /// <param name="overrides"><c>key=value</c> strings, applied in order after the file.</param>
    /// <param name="option">The option that named the file (<c>--config</c>, or <c>--resume</c> for a run's own config.yaml), shown with the path in every message about the file as a whole.</param>
    /// <exception cref="ConfigException">the file is too large, is not valid YAML, or any field is bad.</exception>
    /// <exception cref="IOException">the file cannot be read; the message names it.</exception>
    public static ExperimentConfig LoadFile(string? path, IEnumerable<string>? overrides = null, string option = "--config")
    {
        string? text = null;
        if (path is not null)
        {
            try
            {
                text = ReadSmallFile(path);
            }
            catch (IOException e)
            {
                throw new IOException($"{option} '{path}': cannot read the file: {e.Message}", e);
            }

            if (text is null)
            {
                throw new ConfigException([new ConfigError(option, path,
                    $"larger than {ConfigLimits.MaxDocumentBytes} bytes: the limit is {ConfigLimits.MaxDocumentBytes} (a config is a few hundred bytes)")]);
            }
        }

        try
        {
            return Load(text, overrides);
        }
        catch (ConfigException e) when (path is not null && e.Errors.Any(x => x.Key == FileKey))
        {
            // A problem of the file as a whole (not valid YAML, not a mapping) names the file, not "(file)".
            throw new ConfigException(e.Errors.Select(x => x.Key == FileKey ? x with { Key = option, Value = path } : x).ToArray());
        }
    }

    /// <summary>
    /// The text of a small YAML file (a config, a study file): at most <see cref="ConfigLimits.MaxDocumentBytes"/> bytes
    /// are read, whatever the file claims to be (a device such as <c>/dev/zero</c> has no length).
    /// </summary>
    /// <returns>The text, or null when the file holds more than <see cref="ConfigLimits.MaxDocumentBytes"/> bytes.</returns>
    /// <exception cref="IOException">
    /// the file cannot be read; the message is the reason alone (<c>no such file</c>, <c>it is a directory</c>,
    /// <c>permission denied</c>, or the system's), for the caller to put after the file's name.
    /// </exception>
    public static string? ReadSmallFile(string path)
    {
        try
        {
            return ReadBounded(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new IOException("no such file", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException("permission denied", e);
        }
    }

    // Null when there is more than MaxDocumentBytes.
    private static string? ReadBounded(string path)
    {
        if (Directory.Exists(path))
        {
            throw new IOException("it is a directory");
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1, FileOptions.SequentialScan);
        if (stream.CanSeek && stream.Length > ConfigLimits.MaxDocumentBytes)
        {
            return null;
        }

        var buffer = new byte[ConfigLimits.MaxDocumentBytes + 1];
        int read = 0;
        while (read < buffer.Length)
        {
            int n = stream.Read(buffer, read, buffer.Length - read);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        if (read > ConfigLimits.MaxDocumentBytes)
        {
            return null;
        }

        using var reader = new StreamReader(new MemoryStream(buffer, 0, read), detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    /// <summary>The config as YAML, every key written (nested under <c>data:</c>), in <see cref="ConfigKeys.All"/> order.</summary>
    public static string ToYaml(ExperimentConfig config)
    {
        var root = new YamlMappingNode();
        foreach (var key in ConfigKeys.All)
        {
            var value = key.Write(config);
            YamlNode node = value.List is not null
                ? new YamlSequenceNode(value.List.Select(s => (YamlNode)new YamlScalarNode(s) { Style = ScalarStyle.DoubleQuoted }))
                : new YamlScalarNode(value.Scalar ?? "null") { Style = value.Scalar is null ? ScalarStyle.Plain : ScalarStyle.Any };
            var parts = key.Name.Split('.');
            var parent = root;
            for (int i = 0; i < parts.Length - 1; i++)
            {
                var name = new YamlScalarNode(parts[i]);
                if (!parent.Children.TryGetValue(name, out var child))
                {
                    child = new YamlMappingNode();
                    parent.Children.Add(name, child);
                }

                parent = (YamlMappingNode)child;
            }

            parent.Children.Add(new YamlScalarNode(parts[^1]), node);
        }

        var writer = new StringWriter { NewLine = "\n" };
        new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);
        return writer.ToString().Replace("\n...\n", "\n", StringComparison.Ordinal);
    }

    private static void Flatten(YamlMappingNode node, string prefix, Dictionary<string, ConfigValue> values, List<string> order, List<ConfigError> errors)
    {
        foreach (var (keyNode, valueNode) in node.Children)
        {
            var key = prefix + ((keyNode as YamlScalarNode)?.Value ?? "?");
            if (valueNode is YamlMappingNode child)
            {
                Flatten(child, key + ".", values, order, errors);
                continue;
            }

            if (ToValue(valueNode, out var value) is { } why)
            {
                errors.Add(new ConfigError(key, valueNode.ToString(), why));
                continue;
            }

            if (!values.ContainsKey(key))
            {
                order.Add(key);
            }

            values[key] = value;
        }
    }

    private static string? ParseValue(string text, out ConfigValue value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            value = new ConfigValue(null, null);
            return null;
        }

        try
        {
            if (YamlBounds.Check(text) is { } tooLarge)
            {
                return tooLarge;
            }

            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            return stream.Documents.Count == 0 ? null : ToValue(stream.Documents[0].RootNode, out value);
        }
        catch (YamlException)
        {
            // Not YAML on its own (for example "krum f=3: x"): take the text literally.
            value = new ConfigValue(text.Trim(), null);
            return null;
        }
    }

    private static string? ToValue(YamlNode node, out ConfigValue value)
    {
        value = default;
        switch (node)
        {
            case YamlScalarNode s:
                value = new ConfigValue(s.Style == ScalarStyle.Plain && s.Value is "~" or "null" ? null : s.Value, null);
                return null;
            case YamlSequenceNode seq:
                var items = new List<string>();
                foreach (var item in seq.Children)
                {
                    if (item is not YamlScalarNode scalar || scalar.Value is null)
                    {
                        return "list items must be plain texts (specs)";
                    }

                    items.Add(scalar.Value);
                }

                value = new ConfigValue(null, items);
                return null;
            default:
                return "expected a value or a list";
        }
    }
}
