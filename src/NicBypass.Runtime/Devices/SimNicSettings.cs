namespace NicBypass.Runtime.Devices;

/// <summary>How a simulated NIC is configured: rings to enable, their size, MTU, MSI vectors, link speed.</summary>
public sealed record SimNicSettings(int RxRings, int TxRings = 1, int RingSize = 1024, int Mtu = 1500, int? MsiVectors = null, long? LinkSpeedBitsPerSecond = null);
