using Microsoft.Extensions.Logging;

namespace Dstar.Cluster.Observability;

/// <summary>Structured console logs for cluster processes: single-line text with UTC timestamps, or JSON lines.</summary>
public static class ClusterLogging
{
    /// <summary>A console logger factory; <paramref name="json"/> selects the JSON formatter.</summary>
    public static ILoggerFactory Create(bool json) => LoggerFactory.Create(builder =>
    {
        if (json)
        {
            builder.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "O";
            });
        }
        else
        {
            builder.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            });
        }

        builder.AddFilter("Grpc", LogLevel.Warning).AddFilter("System.Net", LogLevel.Warning);
    });
}
