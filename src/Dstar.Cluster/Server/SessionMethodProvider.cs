using Dstar.Cluster.Protocol;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;

namespace Dstar.Cluster.Server;

/// <summary>
/// Binds <see cref="ParameterService.Session"/> as <c>dstar.v1.ParameterService/Session</c> with the server's own
/// <see cref="SessionMarshaller"/> (the generated server binding would decode gradients with protobuf's copying parser).
/// The route, the method type and the messages on the wire are those of <c>dstar.proto</c>.
/// </summary>
internal sealed class SessionMethodProvider(GrpcTransport transport) : IServiceMethodProvider<ParameterService>
{
    /// <inheritdoc />
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<ParameterService> context)
    {
        var marshaller = new SessionMarshaller(transport.Buffers, transport.Wire);
        var method = new Method<WorkerEnvelope, ServerMessage>(MethodType.DuplexStreaming, Protocol.ParameterService.Descriptor.FullName, "Session",
            marshaller.Requests, SessionMarshaller.Responses);
        context.AddDuplexStreamingMethod(method, [], (service, requests, responses, call) => service.Session(requests, responses, call));
    }
}
