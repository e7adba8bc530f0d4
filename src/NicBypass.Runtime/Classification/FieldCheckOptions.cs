namespace NicBypass.Runtime.Classification;

/// <summary>Which fields a <see cref="FieldCheck"/> compares (docs/architecture.md § Classification as advertised).</summary>
[Flags]
public enum FieldCheckOptions : byte
{
    /// <summary>Nothing beyond the destination MAC.</summary>
    None = 0,

    /// <summary>The frame's outer VLAN id must be the rule's (0: untagged or priority-tagged), with no tag inside it.</summary>
    Vlan = 1,

    /// <summary>An IPv4 packet must be addressed to the rule's one IPv4 address.</summary>
    Ipv4 = 2,

    /// <summary>A TCP or UDP packet must use a declared protocol and port, or an ephemeral port.</summary>
    Ports = 4,

    /// <summary>TCP is declared (with <see cref="Ports"/>).</summary>
    Tcp = 8,

    /// <summary>UDP is declared (with <see cref="Ports"/>).</summary>
    Udp = 16,

    /// <summary>The rule declares more than the check holds (several IPv4 addresses, more than four ports): every IP frame is <see cref="FieldVerdict.CheckFields"/>.</summary>
    Overflow = 32,
}
