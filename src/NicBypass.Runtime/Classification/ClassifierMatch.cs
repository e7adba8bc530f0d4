namespace NicBypass.Runtime.Classification;

/// <summary>Header fields a classifier matches on (as advertised in its hardware information).</summary>
[Flags]
public enum ClassifierMatch
{
    None = 0,
    DestinationMac = 1,
    DestinationIp = 2,
    Vlan = 4,
    Port = 8,
}
