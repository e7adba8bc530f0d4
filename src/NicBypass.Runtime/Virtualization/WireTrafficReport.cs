namespace NicBypass.Runtime.Virtualization;

/// <summary>A NIC's link in a report: frames offered to it, carried at its rate (= the NIC's received), dropped for lack of room on the link.</summary>
public sealed record WireTrafficReport(long Offered, long Carried, long Dropped);
