namespace NicBypass.Runtime.Stacks;

/// <summary>Where a <see cref="NetworkStack"/> sends its frames: a VNS's outbound VSQ, or a VM's interface.</summary>
internal interface IStackOutput
{
    /// <summary>Hands a complete Ethernet frame (untagged) towards the wire.</summary>
    SendStatus Send(ReadOnlySpan<byte> frame);

    /// <summary>Completes when a sender that got <see cref="SendStatus.Blocked"/> may send again.</summary>
    Task WhenWritable();
}
