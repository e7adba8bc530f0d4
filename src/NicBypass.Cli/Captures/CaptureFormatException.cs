namespace NicBypass.Cli.Captures;

/// <summary>A capture file that cannot be read, with where it went wrong.</summary>
public sealed class CaptureFormatException(string message) : Exception(message);
