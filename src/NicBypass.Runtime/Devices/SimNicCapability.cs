namespace NicBypass.Runtime.Devices;

/// <summary>One row of the flow parts' capability table: a resource kind, its index and values.</summary>
internal sealed record SimNicCapability(string Kind, int Index, long Value, long Extra = 0);
