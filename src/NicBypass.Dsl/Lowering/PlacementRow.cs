namespace NicBypass.Dsl.Lowering;

/// <summary>One line of the placement: NIC <paramref name="Nic"/>'s ring <paramref name="Ring"/> (<c>hrr2</c>, <c>sr0/srr5</c>) serves VNIC <paramref name="Vnic"/>.</summary>
public sealed record PlacementRow(string Nic, string Ring, string Vnic);
