using System.Net;
using NicBypass.Runtime.Stacks;

namespace NicBypass.Runtime.Classification;

/// <summary>
/// A flow (flowadm's add-flow): part of one VNIC's inbound traffic, selected by transport, local
/// (destination) port, remote (source) address prefix and remote port — each optional.
/// </summary>
/// <param name="Transport">TCP or UDP; <see cref="StackProtocols.None"/>: any traffic (then no ports).</param>
/// <param name="RemoteIp">With <paramref name="RemotePrefixLength"/>: the senders it selects.</param>
/// <param name="Bandwidth">Its allocation in bits per second (its frames wait in its queue for it); 0 blocks it; null: no limit of its own.</param>
/// <param name="Priority">low, medium or high: the order its VNIC serves its flows' queues in (high, then medium and frames of no flow, then low).</param>
/// <param name="QueueLength">How many frames its own queue holds while they wait for room behind the VNIC or for the allocation.</param>
public sealed record FlowSettings(
    string Name,
    StackProtocols Transport = StackProtocols.None,
    int? LocalPort = null,
    IPAddress? RemoteIp = null,
    int RemotePrefixLength = 0,
    int? RemotePort = null,
    long? Bandwidth = null,
    string Priority = "medium",
    int QueueLength = FlowSettings.DefaultQueueLength)
{
    /// <summary>The frames a flow's queue holds unless told otherwise.</summary>
    public const int DefaultQueueLength = 256;

    /// <summary><c>bandwidth 0</c>: every frame of the flow is dropped.</summary>
    public bool Blocked => Bandwidth == 0;

    /// <summary>True when it selects on the frame's destination only (transport, local port): what a classifier matching ports can do.</summary>
    public bool DestinationOnly => RemoteIp is null && RemotePort is null;
}
