namespace NicBypass.Dsl.Hardware;

/// <summary>The header fields a classifier (hardware or software) can match on.</summary>
[Flags]
public enum ClassifierFields
{
    None = 0,
    DestinationMac = 1,
    DestinationIp = 2,
    Vlan = 4,
    Port = 8,
}
