namespace NicBypass.Runtime.Classification;

/// <summary>What a classifier decided for one frame.</summary>
internal enum ClassifyResult
{
    /// <summary>A unicast frame owned by one rule.</summary>
    Match,

    /// <summary>A broadcast or multicast frame: replicated to every VNIC in its VLAN.</summary>
    Group,

    /// <summary>A unicast frame no rule owns (or owned in another VLAN).</summary>
    NoMatch,
}
