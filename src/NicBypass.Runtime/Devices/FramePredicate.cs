namespace NicBypass.Runtime.Devices;

/// <summary>A yes or no about one frame (a test's choice of which frame a wire loses).</summary>
internal delegate bool FramePredicate(ReadOnlySpan<byte> frame);
