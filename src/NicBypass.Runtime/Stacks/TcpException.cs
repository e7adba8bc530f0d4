namespace NicBypass.Runtime.Stacks;

/// <summary>A TCP connection failed or was used after it closed.</summary>
public sealed class TcpException(TcpError error, string message) : IOException(message)
{
    public TcpError Error { get; } = error;
}
