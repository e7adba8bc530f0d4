namespace NicBypass.Runtime.Stacks;

/// <summary>Receives one datagram in place (<see cref="UdpSocket.Handler"/>); the payload span is only valid during the call.</summary>
public delegate void DatagramHandler(NetworkEndpoint from, ReadOnlySpan<byte> payload);
