namespace NicBypass.Runtime.Devices;

/// <summary>A TAP device could not be opened or used; the message says why and what to do.</summary>
public sealed class TapDeviceException : Exception
{
    public TapDeviceException(string message, int errno = 0) : base(message) => Errno = errno;

    /// <summary>The Linux error number behind it (0 when none).</summary>
    public int Errno { get; }
}
