namespace NicBypass.Runtime.Stacks;

/// <summary>What identifies a connection within one stack: the remote endpoint and the local port.</summary>
internal readonly record struct TcpKey(NetworkAddress Remote, ushort RemotePort, ushort LocalPort);
