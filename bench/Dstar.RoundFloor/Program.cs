// The floor under issue 11's cluster round: the same round shape as `dstar launch` of bench/scripts/cluster-round.py's
// config (a server process and one worker process of N threads, each worker with its own loopback TCP connection;
// x_t down as one message, a gradient up as one message; the server takes the first k of version t), with none of
// dstar's stack: no gRPC, Kestrel, framing or recording, and a calibrated CPU loop instead of the gradient and g₀.
// What it measures is how short such a round can be on this machine; docs/benchmarks.md compares dstar's round to it.
//
// Usage: dotnet run -c Release --project bench/Dstar.RoundFloor -- [--workers 8] [--k 6] [--rounds 20000]
//            [--gradient-us 60] [--g0-us 60] [--server select|async]
// --server select: the server's one thread sends x_t, runs g₀, then waits on all connections with select(2);
// --server async: each connection is read by an async loop on the thread pool that hands arrivals to the round thread
// through a channel, as dstar's server does. Prints the mean milliseconds per round over the second half.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

const int MessageBytes = 440; // 8-byte version, then filler: the size of a logreg x_t or gradient of d = 101, framed.

if (args.Length > 0 && args[0] == "--worker-process")
{
    RunWorkers(int.Parse(args[1]), int.Parse(args[2]), double.Parse(args[3]));
    return 0;
}

var options = new Dictionary<string, string> { ["--workers"] = "8", ["--k"] = "6", ["--rounds"] = "20000", ["--gradient-us"] = "60", ["--g0-us"] = "60", ["--server"] = "async" };
for (var i = 0; i < args.Length; i += 2)
{
    if (!options.ContainsKey(args[i]) || i + 1 >= args.Length)
    {
        Console.Error.WriteLine($"unknown option or missing value: '{args[i]}'; options: {string.Join(", ", options.Keys)}");
        return 2;
    }

    options[args[i]] = args[i + 1];
}

int n = int.Parse(options["--workers"]), k = int.Parse(options["--k"]), rounds = int.Parse(options["--rounds"]);
double gradientUs = double.Parse(options["--gradient-us"]), g0Us = double.Parse(options["--g0-us"]);
var mode = options["--server"];
if (n < 1 || k < 1 || k > n || rounds < 2 || gradientUs < 0 || g0Us < 0 || mode is not ("select" or "async"))
{
    Console.Error.WriteLine("need 1 ≤ k ≤ workers, rounds ≥ 2, non-negative times, and --server select or async");
    return 2;
}

var listener = new TcpListener(IPAddress.Loopback, 0);
listener.Start();
var port = ((IPEndPoint)listener.LocalEndpoint).Port;
using var workerProcess = Process.Start(Environment.ProcessPath!, ["--worker-process", port.ToString(), n.ToString(), gradientUs.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
var sockets = new Socket[n];
for (var i = 0; i < n; i++)
{
    sockets[i] = listener.AcceptSocket();
    sockets[i].NoDelay = true;
}

var arrivals = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true });
if (mode == "async")
{
    foreach (var socket in sockets)
    {
        _ = Task.Run(async () =>
        {
            var buffer = new byte[MessageBytes];
            try
            {
                while (await ReceiveAsync(socket, buffer))
                {
                    arrivals.Writer.TryWrite(BitConverter.ToInt64(buffer));
                }
            }
            catch (SocketException)
            {
                // The run is over.
            }
        });
    }
}

var x = new byte[MessageBytes];
var received = new byte[MessageBytes];
var ready = new List<Socket>();
long late = 0;
var clock = Stopwatch.StartNew();
var cpu = Process.GetCurrentProcess().TotalProcessorTime;
double half = 0;
for (long t = 0; t < rounds; t++)
{
    if (t == rounds / 2)
    {
        half = clock.Elapsed.TotalMilliseconds;
    }

    BitConverter.TryWriteBytes(x, t);
    foreach (var socket in sockets)
    {
        socket.Send(x);
    }

    Work.Run(g0Us);
    var got = 0;
    while (got < k)
    {
        long version;
        if (mode == "async")
        {
            version = arrivals.Reader.ReadAsync().AsTask().GetAwaiter().GetResult();
            got += version == t ? 1 : 0;
            late += version == t ? 0 : 1;
            continue;
        }

        ready.Clear();
        ready.AddRange(sockets);
        Socket.Select(ready, null, null, -1);
        foreach (var socket in ready)
        {
            ReceiveExactly(socket, received);
            version = BitConverter.ToInt64(received);
            got += version == t ? 1 : 0;
            late += version == t ? 0 : 1;
        }
    }
}

var total = clock.Elapsed.TotalMilliseconds;
Console.WriteLine($"server {mode}, N = {n}, k = {k}, gradient {gradientUs} µs, g₀ {g0Us} µs of CPU: {(total - half) / (rounds - (rounds / 2)):F3} ms/round "
                  + $"(second half), {late / (double)rounds:F2} late gradients received per round");
foreach (var socket in sockets)
{
    socket.Close();
}

workerProcess!.WaitForExit();
return 0;

static async Task<bool> ReceiveAsync(Socket socket, byte[] buffer)
{
    for (var read = 0; read < buffer.Length;)
    {
        var count = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None);
        if (count == 0)
        {
            return false;
        }

        read += count;
    }

    return true;
}

static bool ReceiveExactly(Socket socket, byte[] buffer)
{
    for (var read = 0; read < buffer.Length;)
    {
        var count = socket.Receive(buffer, read, buffer.Length - read, SocketFlags.None);
        if (count == 0)
        {
            return false;
        }

        read += count;
    }

    return true;
}

// The worker process: one thread per worker, blocking on its connection, as `dstar work --ids` runs them. A version
// superseded before the work starts or before the send is dropped, as ClusterWorker's rounds loop does.
static void RunWorkers(int port, int n, double gradientUs)
{
    var threads = new List<Thread>();
    for (var i = 0; i < n; i++)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(IPAddress.Loopback, port);
        var thread = new Thread(() =>
        {
            var buffer = new byte[MessageBytes];
            try
            {
                while (ReceiveExactly(socket, buffer))
                {
                    if (socket.Available > 0)
                    {
                        continue;
                    }

                    Work.Run(gradientUs);
                    if (socket.Available == 0)
                    {
                        socket.Send(buffer);
                    }
                }
            }
            catch (SocketException)
            {
                // The server closed the connection.
            }
        });
        thread.Start();
        threads.Add(thread);
    }

    threads.ForEach(t => t.Join());
}

/// <summary>A CPU loop calibrated once to microseconds: a preempted loop takes longer in wall time, as a real gradient does.</summary>
internal static class Work
{
    private static readonly double IterationsPerMicrosecond = Calibrate();

    public static double Sink { get; private set; }

    public static void Run(double microseconds)
    {
        var iterations = (long)(microseconds * IterationsPerMicrosecond);
        double a = 1;
        for (long i = 0; i < iterations; i++)
        {
            a = (a * 1.0000001) + 1e-9;
        }

        Sink = a;
    }

    private static double Calibrate()
    {
        const long Iterations = 20_000_000;
        var clock = Stopwatch.StartNew();
        double a = 1;
        for (long i = 0; i < Iterations; i++)
        {
            a = (a * 1.0000001) + 1e-9;
        }

        Sink = a;
        return Iterations / clock.Elapsed.TotalMicroseconds;
    }
}
