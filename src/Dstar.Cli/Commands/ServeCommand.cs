using System.CommandLine;
using Dstar.Cluster.Configuration;
using Dstar.Cluster.Server;

namespace Dstar.Cli.Commands;

/// <summary><c>dstar serve</c>: the parameter server of a gRPC cluster.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "The run's config file (key: value lines).", Required = true };
        var listen = new Option<string>("--listen") { Description = "Listen URL.", DefaultValueFactory = _ => "https://0.0.0.0:7070" };
        var keys = new Option<string>("--authorized-keys") { Description = "One worker per line: '<id> <base64 SubjectPublicKeyInfo>'.", Required = true };
        var cert = new Option<string?>("--tls-cert") { Description = "PEM server certificate." };
        var key = new Option<string?>("--tls-key") { Description = "PEM private key of the certificate." };
        var insecure = new Option<bool>("--insecure") { Description = "Plain-text HTTP/2; refused on any address but loopback." };
        var checkpoints = new Option<string?>("--checkpoint-dir") { Description = "Checkpoint every M rounds (config checkpoint-every), at the end and on SIGTERM." };
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest checkpoint in --checkpoint-dir." };
        var output = new Option<string?>("--out") { Description = "Run directory (config.yaml, rounds.jsonl, summary.json)." };
        var metricsListen = new Option<string?>("--metrics-listen") { Description = "Extra plain HTTP/1.1 URL for /metrics and /healthz." };
        var json = new Option<bool>("--log-json") { Description = "Structured logs as JSON lines." };
        var command = new Command("serve", "Run the parameter server: authenticated workers over gRPC, first k of N, robust aggregation.")
        {
            config, listen, keys, cert, key, insecure, checkpoints, resume, output, metricsListen, json,
        };
        command.SetAction((parse, cancellation) => CommandErrors.RunAsync("serve", () => ClusterServer.RunAsync(new ServerSettings
        {
            Config = ClusterConfig.Load(parse.GetValue(config)),
            Listen = parse.GetValue(listen)!,
            AuthorizedKeysPath = parse.GetValue(keys)!,
            TlsCertificatePath = parse.GetValue(cert),
            TlsKeyPath = parse.GetValue(key),
            Insecure = parse.GetValue(insecure),
            CheckpointDirectory = parse.GetValue(checkpoints),
            Resume = parse.GetValue(resume),
            OutputDirectory = parse.GetValue(output),
            MetricsListen = parse.GetValue(metricsListen),
            JsonLogs = parse.GetValue(json),
        }, Console.Out, cancellation)));
        return command;
    }
}
