namespace NicBypass.Generators.Models;

/// <summary>
/// A classifier lookup specialised to one classifier's MACs: straight-line compares for one or
/// two MACs, else a hash table laid out at build time (<see cref="BakedMacTable"/>); then the
/// rule's VLAN, IP and port checks, baked (<see cref="NicBypass.Dsl.Lowering.LookupCheck"/>).
/// </summary>
internal sealed class LookupTemplateModel
{
    public string Name { get; set; } = "";
    public string Summary { get; set; } = "";
    public bool Hashed { get; set; }
    public List<LookupEntryTemplateModel> Entries { get; } = new();
    public string Multiplier { get; set; } = "";
    public int Probes { get; set; }
    public int Count { get; set; }
    public int Size { get; set; }
    public int Shift { get; set; }
    public int Mask { get; set; }

    /// <summary>Each rule's MAC and slot in the baked table, four to a line (a marker the emitter fills).</summary>
    public string PlacedRows { get; set; } = "";

    /// <summary>True when some rule checks a field beyond its MAC: the lookup then carries <see cref="CheckRows"/>.</summary>
    public bool Checked { get; set; }

    /// <summary>One line per rule: its <c>FieldCheck</c> constructor and a comment naming the fields (a marker the emitter fills).</summary>
    public string CheckRows { get; set; } = "";

    /// <summary>The options every rule's check has, as C# (<c>Vlan | Ipv4</c>), or empty when they differ: passed to the checks as a constant.</summary>
    public string SharedOptions { get; set; } = "";
}
