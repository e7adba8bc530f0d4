namespace NicBypass.Cli.Captures;

/// <summary>One captured frame: when it was seen, the bytes captured and the length it had on the wire.</summary>
public readonly record struct CaptureFrame(long TimestampNanoseconds, byte[] Data, int OriginalLength, int LinkType);
