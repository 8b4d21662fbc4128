using System.CommandLine;

namespace Dstar.Cli;

/// <summary>The <c>dstar</c> command: parses arguments, builds objects from the layers below, runs them.</summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static int Main(string[] args)
    {
        var root = new RootCommand("dstar: straggler-tolerant, Byzantine-resilient distributed SGD");
        return root.Parse(args).Invoke();
    }
}
