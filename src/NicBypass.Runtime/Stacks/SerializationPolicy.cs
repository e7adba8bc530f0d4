namespace NicBypass.Runtime.Stacks;

/// <summary>How many threads may be inside a virtual serialization queue at once.</summary>
public enum SerializationPolicy
{
    /// <summary>UDP only: datagrams are independent, so several threads may process at once.</summary>
    Concurrent,

    /// <summary>TCP present: segments must be processed in order, one thread at a time.</summary>
    MutualExclusion,
}
