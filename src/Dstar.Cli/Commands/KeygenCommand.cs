using System.CommandLine;
using Dstar.Cli.Failures;
using Dstar.Cluster.Security;

namespace Dstar.Cli.Commands;

/// <summary><c>dstar keygen --id N --out DIR</c>: a worker's ECDSA P-256 key pair and its authorized-keys line.</summary>
internal static class KeygenCommand
{
    public static Command Create()
    {
        var id = new Option<int>("--id") { Description = "The worker id (≥ 0).", Required = true };
        var output = new Option<string>("--out") { Description = "Directory for worker-N.key (PKCS#8 PEM) and worker-N.pub.", Required = true };
        var command = new Command("keygen", "Write a worker's key pair and print its authorized-keys line '<id> <base64 SubjectPublicKeyInfo>'.")
        {
            id,
            output,
        };
        command.SetAction(parse => CommandRunner.Run("keygen", parse.InvocationConfiguration.Error, _ =>
        {
            var directory = parse.GetValue(output)!;
            if (parse.GetValue(id) >= 0 && !File.Exists(directory))
            {
                OutputDirectory.Create(directory, "--out");
            }

            parse.InvocationConfiguration.Output.WriteLine(WorkerKey.WriteKeyPair(parse.GetValue(id), directory));
            return 0;
        }));
        return command;
    }
}
