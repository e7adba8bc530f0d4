namespace NicBypass.Runtime.Virtualization;

/// <summary>What a VM's guest stack did with the frames it got.</summary>
public sealed class GuestCounters
{
    public long Received;
    public long ArpReplies;
    public long EchoReplies;
    public long UdpEchoes;
    public long NeighborAdvertisements;

    /// <summary>Frames for other addresses or protocols the small guest stack does not answer.</summary>
    public long Ignored;

    /// <summary>Frames with a damaged IP, ICMP or UDP header (judged here, not by the NIC).</summary>
    public long Malformed;

    /// <summary>Replies the VNIC refused (transmit ring full).</summary>
    public long SendFailures;
}
