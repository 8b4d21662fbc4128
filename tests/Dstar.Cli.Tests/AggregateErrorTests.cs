using Dstar.Cli.Npy;
using Xunit;

namespace Dstar.Cli.Tests;

public class AggregateErrorTests
{
    private const string Good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

    public static TheoryData<string, byte[], string> MalformedInputs()
    {
        var six = RawNpy.Floats(6);
        var full = RawNpy.Build(Good, six);
        return new()
        {
            { "empty file", [], "not a NumPy .npy file" },
            { "text file", "hello, world\n"u8.ToArray(), "not a NumPy .npy file" },
            { "unknown version", Patch(full, 6, 9), "unsupported .npy format version 9.0" },
            { "header cut short", full[..30], "truncated .npy header" },
            { "prefix only", full[..9], "truncated .npy header" },
            { "header not a dict", RawNpy.Build("['descr', '<f4']", six), "malformed .npy header" },
            { "header unbalanced", RawNpy.Build("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3", six), "malformed .npy header" },
            { "header missing shape", RawNpy.Build("{'descr': '<f4', 'fortran_order': False, }", six), "no 'shape' entry" },
            { "header missing descr", RawNpy.Build("{'fortran_order': False, 'shape': (2, 3), }", six), "no 'descr' entry" },
            { "shape not integers", RawNpy.Build("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", six), "malformed .npy header" },
            { "fortran order", RawNpy.Build("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", six), "Fortran-order arrays are not supported" },
            { "int64 dtype", RawNpy.Build("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }", new byte[48]), "dtype '<i8' is not supported" },
            { "float16 dtype", RawNpy.Build("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }", new byte[12]), "dtype '<f2' is not supported" },
            { "structured dtype", RawNpy.Build("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 3), }", six), "structured dtypes are not supported" },
            { "truncated data", full[..^5], "truncated data" },
            { "extra bytes", [.. full, 1, 2, 3, 4], "4 unexpected bytes after the data" },
            { "1-D input", RawNpy.Build("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", six), "expected a 2-D array of shape (n, d), got shape (6,)" },
            { "3-D input", RawNpy.Build("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }", six), "got shape (1, 2, 3)" },
            { "scalar input", RawNpy.Build("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", RawNpy.Floats(1)), "got shape ()" },
            { "no rows", RawNpy.Build("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", []), "at least one row and one column" },
        };
    }

    [Theory]
    [MemberData(nameof(MalformedInputs))]
    public void Malformed_input_gets_one_line_error_and_nonzero_exit(string what, byte[] bytes, string expected)
    {
        using var run = new CliRun();
        var input = run.PathOf("x.npy");
        File.WriteAllBytes(input, bytes);
        var result = CliRun.Invoke("aggregate", "--rule", "mean", "--input", input, "--output", run.PathOf("out.npy"));
        AssertOneLineFailure(result, expected);
        Assert.False(File.Exists(run.PathOf("out.npy")), what);
    }

    [Fact]
    public void Validation_gradient_of_the_wrong_length_is_refused()
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), new float[6], 2, 3);
        NpyWriter.Write(run.PathOf("g.npy"), new float[4], 4);
        var result = CliRun.Invoke("aggregate", "--rule", "mean", "--input", run.PathOf("x.npy"), "--validation", run.PathOf("g.npy"), "--output", run.PathOf("o.npy"));
        AssertOneLineFailure(result, "expected shape (3,), got shape (4,)");
    }

    [Fact]
    public void Validation_gradient_given_as_a_matrix_is_refused()
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), new float[6], 2, 3);
        NpyWriter.Write(run.PathOf("g.npy"), new float[3], 1, 3);
        var result = CliRun.Invoke("aggregate", "--rule", "mean", "--input", run.PathOf("x.npy"), "--validation", run.PathOf("g.npy"), "--output", run.PathOf("o.npy"));
        AssertOneLineFailure(result, "expected shape (3,), got shape (1, 3)");
    }

    [Fact]
    public void Missing_input_file_is_named()
    {
        using var run = new CliRun();
        var result = CliRun.Invoke("aggregate", "--rule", "mean", "--input", run.PathOf("absent.npy"), "--output", run.PathOf("o.npy"));
        AssertOneLineFailure(result, "absent.npy: no such file");
    }

    [Fact]
    public void A_directory_as_input_or_validation_is_named_as_one()
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), new float[6], 2, 3);
        Directory.CreateDirectory(run.PathOf("d.npy"));
        var input = CliRun.Invoke("aggregate", "--rule", "mean", "--input", run.PathOf("d.npy"), "--output", run.PathOf("o.npy"));
        Assert.Equal(Dstar.Cli.Failures.ExitCodes.Data, input.Exit);
        AssertOneLineFailure(input, $"{run.PathOf("d.npy")}: is a directory, not a .npy file");
        var validation = CliRun.Invoke("aggregate", "--rule", "mean", "--input", run.PathOf("x.npy"), "--validation", run.PathOf("d.npy"), "--output", run.PathOf("o.npy"));
        AssertOneLineFailure(validation, $"{run.PathOf("d.npy")}: is a directory, not a .npy file");
        Assert.False(File.Exists(run.PathOf("o.npy")));
    }

    [Fact]
    public void Unwritable_output_is_one_line()
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), new float[6], 2, 3);
        var result = CliRun.Invoke("aggregate", "--rule", "mean", "--input", run.PathOf("x.npy"), "--output", run.PathOf("no/such/dir/o.npy"));
        AssertOneLineFailure(result, "dstar aggregate:");
    }

    [Fact]
    public void Unknown_rule_lists_the_valid_rules()
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), new float[6], 2, 3);
        var result = CliRun.Invoke("aggregate", "--rule", "krumm", "--input", run.PathOf("x.npy"), "--output", run.PathOf("o.npy"));
        AssertOneLineFailure(result, "unknown rule 'krumm' (valid: ");
        foreach (var name in Core.Specs.Registry.Rules.Names)
        {
            Assert.Contains(name, result.Error);
        }
    }

    [Fact]
    public void Unknown_pre_aggregator_is_refused_with_the_valid_ones()
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), new float[6], 2, 3);
        var result = CliRun.Invoke("aggregate", "--rule", "mean", "--pre", "nmn", "--input", run.PathOf("x.npy"), "--output", run.PathOf("o.npy"));
        AssertOneLineFailure(result, "unknown pre-aggregator 'nmn' (valid:");
    }

    [Fact]
    public void Unknown_parameter_lists_the_valid_parameters()
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), new float[6], 2, 3);
        var result = CliRun.Invoke("aggregate", "--rule", "mean bogus=1", "--input", run.PathOf("x.npy"), "--output", run.PathOf("o.npy"));
        AssertOneLineFailure(result, "'mean' has no parameter 'bogus'");
    }

    [Fact]
    public void Malformed_spec_is_refused()
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), new float[6], 2, 3);
        var result = CliRun.Invoke("aggregate", "--rule", "mean f", "--input", run.PathOf("x.npy"), "--output", run.PathOf("o.npy"));
        AssertOneLineFailure(result, "--rule: spec 'mean f': 'f' is not key=value");
    }

    [Fact]
    public void Negative_f_is_refused()
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), new float[6], 2, 3);
        var result = CliRun.Invoke("aggregate", "--rule", "mean", "--f", "-1", "--input", run.PathOf("x.npy"), "--output", run.PathOf("o.npy"));
        AssertOneLineFailure(result, "--f must be ≥ 0, got -1");
    }

    [Fact]
    public void Zeno_is_refused_because_a_gradient_file_carries_no_validation_loss()
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), new float[12], 4, 3);
        var result = CliRun.Invoke("aggregate", "--rule", "zeno", "--input", run.PathOf("x.npy"), "--output", run.PathOf("o.npy"));
        AssertOneLineFailure(result, "zeno needs the validation loss F_val(x) and the parameters x");
        Assert.False(File.Exists(run.PathOf("o.npy")));
    }

    [Theory]
    [InlineData("fltrust", "fltrust needs the server's validation gradient g₀, got none: give it with --validation G0.npy")]
    [InlineData("dstar", "dstar (center=median) needs the server's validation gradient g₀, got none: give it with --validation G0.npy")]
    public void A_rule_that_needs_the_validation_gradient_refuses_without_it_naming_the_option(string rule, string expected)
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), new float[12], 4, 3);
        var result = CliRun.Invoke("aggregate", "--rule", rule, "--input", run.PathOf("x.npy"), "--output", run.PathOf("o.npy"));
        AssertOneLineFailure(result, expected);
        Assert.Equal(Dstar.Cli.Failures.ExitCodes.RunFailed, result.Exit);
        Assert.DoesNotContain("Context", result.Error);
        Assert.False(File.Exists(run.PathOf("o.npy")));
    }

    [Fact]
    public void A_rule_refusing_n_and_f_is_one_line_naming_what_it_needs()
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), new float[21], 7, 3);
        var result = CliRun.Invoke("aggregate", "--rule", "krum", "--f", "3", "--input", run.PathOf("x.npy"), "--output", run.PathOf("o.npy"));
        AssertOneLineFailure(result, "krum needs n ≥ 2f+3 = 9, got n = 7");
        Assert.False(File.Exists(run.PathOf("o.npy")));
    }

    [Fact]
    public void A_bad_parameter_value_names_the_parameter()
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), new float[21], 7, 3);
        var result = CliRun.Invoke("aggregate", "--rule", "dstar tau=abc", "--input", run.PathOf("x.npy"), "--output", run.PathOf("o.npy"));
        AssertOneLineFailure(result, "'dstar': parameter tau=abc is invalid");
    }

    [Fact]
    public void All_non_finite_rows_make_the_rule_refuse_in_one_line()
    {
        using var run = new CliRun();
        NpyWriter.Write(run.PathOf("x.npy"), [float.NaN, 1, 2, 3, float.PositiveInfinity, 5], 2, 3);
        var result = CliRun.Invoke("aggregate", "--rule", "mean", "--input", run.PathOf("x.npy"), "--output", run.PathOf("o.npy"));
        AssertOneLineFailure(result, "mean: all 2 rows hold non-finite values");
    }

    internal static void AssertOneLineFailure((int Exit, string Output, string Error) result, string expected)
    {
        Assert.NotEqual(0, result.Exit);
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{result.Error}");
        Assert.StartsWith("dstar ", lines[0]);
        Assert.Contains(expected, lines[0]);
        Assert.DoesNotContain("   at ", result.Error);
        Assert.DoesNotContain("Exception", result.Error);
    }

    private static byte[] Patch(byte[] bytes, int index, byte value)
    {
        var copy = (byte[])bytes.Clone();
        copy[index] = value;
        return copy;
    }
}
