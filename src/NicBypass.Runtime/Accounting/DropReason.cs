namespace NicBypass.Runtime.Accounting;

/// <summary>
/// Why a frame was dropped. Every drop in the datapath is counted under one of these, in one
/// place per stage; <see cref="DropReasons.Name"/> gives the report name (<c>ring-full</c>, …).
/// </summary>
public enum DropReason
{
    /// <summary>The receive ring (or transmit ring) was full.</summary>
    RingFull,

    /// <summary>A unicast frame whose destination matches no VNIC (or no VNIC in its VLAN).</summary>
    NoMatch,

    /// <summary>Cannot be classified at layer 2: shorter than an Ethernet header, or a cut-off VLAN tag.</summary>
    Malformed,

    /// <summary>Longer than MTU + 18 bytes.</summary>
    Oversize,

    /// <summary>The NIC's buffer pool had no free slot.</summary>
    NoBuffer,

    /// <summary>A VM's inbound allocation was exceeded (policed at its VNIC).</summary>
    Bandwidth,

    /// <summary>A frame sent with a source MAC or IP that is not the sender's own.</summary>
    Spoofed,

    /// <summary>A VM's guest receive ring was full: the guest had not taken what was placed before.</summary>
    GuestRingFull,

    /// <summary>The frame belongs to a flow with <c>bandwidth 0</c>: blocked.</summary>
    Blocked,

    /// <summary>A flow's own queue was full: its frames waited for room behind the VNIC faster than it drained.</summary>
    FlowQueueFull,

    /// <summary>User code called for a frame as it was delivered (a tap, a socket's handler) threw: that frame and the rest of its batch.</summary>
    HandlerFault,
}

/// <summary>Names and enumeration of <see cref="DropReason"/>.</summary>
public static class DropReasons
{
    /// <summary>All reasons, in enum order.</summary>
    public static readonly DropReason[] All = Enum.GetValues<DropReason>();

    public static int Count => All.Length;

    /// <summary>The name used in reports and JSON.</summary>
    public static string Name(DropReason reason) => reason switch
    {
        DropReason.RingFull => "ring-full",
        DropReason.NoMatch => "no-match",
        DropReason.Malformed => "malformed",
        DropReason.Oversize => "oversize",
        DropReason.NoBuffer => "no-buffer",
        DropReason.Bandwidth => "bandwidth",
        DropReason.Spoofed => "spoofed",
        DropReason.GuestRingFull => "guest-ring-full",
        DropReason.FlowQueueFull => "flow-queue-full",
        DropReason.HandlerFault => "handler-fault",
        _ => reason.ToString().ToLowerInvariant(),
    };
}
