using System.CommandLine;
using Dstar.Engine.Configuration;
using Xunit;
using static Dstar.Cli.Tests.Deployment.Manifests;

namespace Dstar.Cli.Tests.Deployment;

/// <summary>
/// The Kubernetes manifests and the compose file of deploy/, checked without a cluster: the shapes Kubernetes needs
/// (a one-replica StatefulSet with a claimed volume, an Indexed Job), command lines that the real dstar parser accepts,
/// and every file a command line names mounted from a volume that holds it. The image and a real run are
/// deploy/test-kube.sh's job (docs/deploy.md).
/// </summary>
[Trait("Category", "Deployment")]
public class ManifestTests
{
    private static readonly List<Dictionary<object, object>> Server = Load("deploy/kubernetes/server.yaml");
    private static readonly List<Dictionary<object, object>> Workers = Load("deploy/kubernetes/workers.yaml");
    private static readonly Dictionary<object, object> ExperimentMap = Single(Load("deploy/kubernetes/experiment.yaml"), "ConfigMap");

    /// <summary>The names make-secrets.sh gives its Secrets, each with the keys it holds (worker keys for 3 workers).</summary>
    private static readonly Dictionary<string, string[]> SecretKeys = new()
    {
        ["dstar-worker-keys"] = ["worker-0.key", "worker-1.key", "worker-2.key"],
        ["dstar-authorized-keys"] = ["authorized_keys"],
        ["dstar-server-tls"] = ["tls.crt", "tls.key"],
        ["dstar-ca"] = ["ca.crt"],
    };

    private static Dictionary<object, object> StatefulSet => Single(Server, "StatefulSet");

    private static Dictionary<object, object> Job => Single(Workers, "Job");

    private static Dictionary<object, object> Container(Dictionary<object, object> workload) =>
        Assert.Single(Maps(workload, "spec.template.spec.containers"));

    private static string[] Args(Dictionary<object, object> container) => List(container, "args").Cast<string>().ToArray();

    /// <summary>The experiment text (a key with a dot, so not reachable by a dotted path).</summary>
    private static string ExperimentYaml => (string)Map(ExperimentMap, "data")["experiment.yaml"];

    private static ExperimentConfig Experiment => ConfigLoader.Load(ExperimentYaml);

    [Fact]
    public void Server_is_one_replica_StatefulSet_whose_run_directory_and_checkpoints_are_on_a_claimed_volume()
    {
        Assert.Equal("1", Text(StatefulSet, "spec.replicas"));
        var service = Single(Server, "Service");
        Assert.Equal(Text(service, "metadata.name"), Text(StatefulSet, "spec.serviceName"));
        Assert.Equal(Map(StatefulSet, "spec.selector.matchLabels").OrderBy(p => p.Key.ToString()), Map(service, "spec.selector").OrderBy(p => p.Key.ToString()));

        var claim = Assert.Single(Maps(StatefulSet, "spec.volumeClaimTemplates"));
        var args = Args(Container(StatefulSet));
        var mount = Assert.Single(Maps(Container(StatefulSet), "volumeMounts"), m => Text(m, "name") == Text(claim, "metadata.name"));
        Assert.StartsWith(Text(mount, "mountPath") + "/", ValueOf(args, "--out") + "/", StringComparison.Ordinal);
        Assert.DoesNotContain("--checkpoint-dir", args); // so checkpoints go to --out, on the claim
        Assert.Contains("--auto-resume", args);
        Assert.DoesNotContain("--insecure", args);
    }

    [Fact]
    public void Server_readiness_and_Prometheus_scrape_use_the_metrics_listener()
    {
        var container = Container(StatefulSet);
        var metrics = new Uri(ValueOf(Args(container), "--metrics-listen"));
        Assert.Equal("/healthz", Text(container, "readinessProbe.httpGet.path"));
        Assert.Equal(metrics.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), Text(container, "readinessProbe.httpGet.port"));
        Assert.Null(At(container, "livenessProbe")); // a finished run waits without serving; a liveness probe would kill it

        var annotations = Map(StatefulSet, "spec.template.metadata.annotations");
        Assert.Equal("true", annotations["prometheus.io/scrape"]);
        Assert.Equal(Text(container, "readinessProbe.httpGet.port"), annotations["prometheus.io/port"]);
        Assert.Equal("/metrics", annotations["prometheus.io/path"]);

        var listen = new Uri(ValueOf(Args(container), "--listen"));
        Assert.Equal("https", listen.Scheme);
        var ports = Maps(Single(Server, "Service"), "spec.ports").Select(p => Text(p, "port")).ToHashSet();
        Assert.Contains(listen.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), ports);
        Assert.Contains(metrics.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), ports);
    }

    [Fact]
    public void Worker_Job_is_Indexed_with_one_pod_per_configured_worker_and_takes_its_id_from_the_index()
    {
        Assert.Equal("Indexed", Text(Job, "spec.completionMode"));
        Assert.Equal(Experiment.Workers.ToString(System.Globalization.CultureInfo.InvariantCulture), Text(Job, "spec.completions"));
        Assert.Equal(Text(Job, "spec.completions"), Text(Job, "spec.parallelism"));
        Assert.Equal("OnFailure", Text(Job, "spec.template.spec.restartPolicy"));

        var args = Args(Container(Job));
        Assert.DoesNotContain("--id", args);
        var server = new Uri(ValueOf(args, "--server"));
        Assert.Equal("https", server.Scheme);
        Assert.Equal(Text(Single(Server, "Service"), "metadata.name"), server.Host);
        Assert.Equal(new Uri(ValueOf(Args(Container(StatefulSet)), "--listen")).Port, server.Port);
    }

    [Fact]
    public void Experiment_ConfigMap_is_a_valid_experiment_and_the_compose_file_uses_the_same_one()
    {
        Assert.Equal(3, Experiment.Workers);
        Assert.True(Experiment.K < Experiment.Workers, "first k of N: a lost worker pod must not stall the run");
        Assert.True(Experiment.CheckpointEvery > 0, "a restarted server pod resumes from the last checkpoint");
        var composeExperiment = string.Join('\n', File.ReadAllLines(PathOf("deploy/experiment.yaml")).SkipWhile(l => l.StartsWith('#')));
        Assert.Equal(ExperimentYaml.TrimEnd(), composeExperiment.TrimEnd());
    }

    public static TheoryData<string, string> CommandLines() => new()
    {
        { "server.yaml", "serve" },
        { "workers.yaml", "work" },
        { "compose dstar-ps", "serve" },
        { "compose worker-0", "work" },
    };

    [Theory]
    [MemberData(nameof(CommandLines))]
    public void Every_command_line_parses_with_the_real_dstar_options(string source, string command)
    {
        var args = ArgsOf(source);
        Assert.Equal(command, args[0]);
        var parse = Program.CreateRoot().Parse(args);
        Assert.True(parse.Errors.Count == 0, $"{source}: {string.Join("; ", parse.Errors.Select(e => e.Message))}");

        // And each option is one `dstar <command> --help` lists.
        var (exit, help, _) = CliRun.Invoke(command, "--help");
        Assert.Equal(0, exit);
        foreach (var option in args.Where(a => a.StartsWith("--", StringComparison.Ordinal)))
        {
            Assert.Contains(option, help, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("server.yaml")]
    [InlineData("workers.yaml")]
    public void Every_file_a_command_line_names_is_in_a_volume_mounted_there(string manifest)
    {
        var workload = manifest == "server.yaml" ? StatefulSet : Job;
        var container = Container(workload);
        var volumes = Maps(workload, "spec.template.spec.volumes").ToDictionary(v => Text(v, "name")!);
        var mounts = Maps(container, "volumeMounts").ToList();
        foreach (var path in Args(container).Where(a => a.StartsWith("/etc/dstar/", StringComparison.Ordinal)))
        {
            var mount = Assert.Single(mounts, m => path == Text(m, "mountPath") || path.StartsWith(Text(m, "mountPath") + "/", StringComparison.Ordinal));
            Assert.Equal("true", Text(mount, "readOnly"));
            var volume = volumes[Text(mount, "name")!];
            var file = path == Text(mount, "mountPath") ? null : path[(Text(mount, "mountPath")!.Length + 1)..];
            if (At(volume, "configMap") is not null)
            {
                Assert.Equal(Text(ExperimentMap, "metadata.name"), Text(volume, "configMap.name"));
                Assert.True(Map(ExperimentMap, "data").ContainsKey(file!), $"{path}: the ConfigMap has no key {file}");
            }
            else
            {
                var secret = Text(volume, "secret.secretName")!;
                Assert.True(SecretKeys.ContainsKey(secret), $"{path}: make-secrets.sh makes no Secret {secret}");
                if (file is not null)
                {
                    Assert.Contains(file, SecretKeys[secret]);
                }
            }
        }
    }

    [Fact]
    public void Pods_run_as_the_image_non_root_user()
    {
        foreach (var workload in new[] { StatefulSet, Job })
        {
            Assert.Equal("true", Text(workload, "spec.template.spec.securityContext.runAsNonRoot"));
            Assert.Equal("10001", Text(workload, "spec.template.spec.securityContext.runAsUser"));
            Assert.Equal("false", Text(Container(workload), "securityContext.allowPrivilegeEscalation"));
        }

        Assert.Contains("USER 10001:10001", File.ReadAllText(PathOf("deploy/image/Containerfile")), StringComparison.Ordinal);
    }

    private static string[] ArgsOf(string source)
    {
        if (source.EndsWith(".yaml", StringComparison.Ordinal))
        {
            return Args(Container(source == "server.yaml" ? StatefulSet : Job));
        }

        var compose = Assert.Single(Load("deploy/compose.yaml"));
        var service = source["compose ".Length..];
        return List(compose, $"services.{service}.command").Cast<string>().ToArray();
    }
}
