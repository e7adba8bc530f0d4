namespace NicBypass.Runtime.Classification;

/// <summary>What a classifier decided for one frame.</summary>
internal enum ClassifyResult
{
    /// <summary>A unicast frame owned by one rule.</summary>
    Match,

    /// <summary>A broadcast or multicast frame with a route: copied to the rings of its group's members.</summary>
    Group,

    /// <summary>A frame no rule owns (or owned in another VLAN, to another IP or port, a group nobody joined).</summary>
    NoMatch,

    /// <summary>A unicast frame no rule owns, on a NIC that classifies in software what its hardware cannot hold: to the default ring.</summary>
    Default,
}
