using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Classification;

/// <summary>
/// A classifier lookup that also decides the fields beyond the MAC (docs/architecture.md § Classification as advertised): the
/// generator emits one per classifier with the rules' <see cref="FieldCheck"/>s baked in next to
/// its MAC table, so one call finds the rule and checks its VLAN, IP and port. The classifier
/// compares every baked check with the one it derives from its own rules when the lookup is
/// loaded, and refuses a lookup that disagrees.
/// </summary>
public interface IFieldLookup : IMacLookup
{
    /// <summary>The check baked for rule <paramref name="rule"/>.</summary>
    FieldCheck CheckOf(int rule);

    /// <summary>
    /// The rule a frame's destination MAC selects (<paramref name="rule"/>, -1 for none) and its
    /// check's verdict (<see cref="FieldVerdict.NoMatch"/> when no rule owns the MAC). Group
    /// frames come here too and must miss: no rule holds a group address, and the classifier
    /// tells a group frame apart only after the lookup misses.
    /// </summary>
    FieldVerdict Match(ReadOnlySpan<byte> frame, in EthernetHeader header, out int rule);
}
