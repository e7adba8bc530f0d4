using NicBypass.Dsl.Lowering;
using NicBypass.Runtime.Classification;
using NicBypass.Runtime.Packets;

namespace NicBypass.Hosting;

/// <summary>
/// What the interpreter loads for a <see cref="LoadLookupStep"/>: the MACs and field checks the
/// step names, as the generated lookup bakes them — so every interpreted host also proves the
/// lowering's checks equal the ones the classifier derives (it refuses a lookup that differs).
/// </summary>
internal sealed class SteppedLookup : IFieldLookup
{
    private readonly MacTable _table;
    private readonly FieldCheck[] _checks;

    public SteppedLookup(LoadLookupStep step)
    {
        _table = new MacTable(step.Macs.Count);
        for (var i = 0; i < step.Macs.Count; i++) _table.Set(step.Macs[i], i);
        _checks = new FieldCheck[step.Macs.Count];
        for (var i = 0; i < step.Checks.Count; i++) _checks[i] = Check(step.Checks[i]);
    }

    public static FieldCheck Check(LookupCheck check)
    {
        var options = FieldCheckOptions.None;
        foreach (var option in check.Options) options |= Enum.Parse<FieldCheckOptions>(option);
        return new FieldCheck(options, check.Vlan, check.Ipv4, check.PortLanes);
    }

    public int Lookup(ulong mac) => _table.Lookup(mac);

    public FieldCheck CheckOf(int rule) => _checks[rule];

    public FieldVerdict Match(ReadOnlySpan<byte> frame, in EthernetHeader header, out int rule)
    {
        rule = _table.Lookup(header.Destination);
        return rule >= 0 ? _checks[rule].Check(frame, header) : FieldVerdict.NoMatch;
    }
}
