namespace NicBypass.Runtime.Classification;

/// <summary>
/// The lookup at the heart of a classifier: a destination MAC (48-bit integer) to the index of
/// the rule that owns it, or -1. The runtime's generic implementation is a hash table
/// (<see cref="MacTable"/>); generated code supplies one specialised to a host's addresses.
/// </summary>
public interface IMacLookup
{
    int Lookup(ulong mac);
}
