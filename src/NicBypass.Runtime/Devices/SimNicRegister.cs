namespace NicBypass.Runtime.Devices;

/// <summary>Registers of the basic simulated part (simnic-1g).</summary>
internal enum SimNicRegister
{
    RxRingCount,
    TxRingCount,
    RxRingSize,
    TxRingSize,
    RxRingMsiVector,
    MsiVectorCount,
    ClassifierEntries,
    ClassifierFields,
    MaxFrameLength,
    LinkSpeedMbps,
}
