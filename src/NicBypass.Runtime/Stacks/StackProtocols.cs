namespace NicBypass.Runtime.Stacks;

/// <summary>
/// The transports a stack serves (a destination's <c>protocols</c>). They decide its
/// serialization policy: TCP present → mutual exclusion; UDP only (or none) → concurrent.
/// </summary>
[Flags]
public enum StackProtocols
{
    None = 0,
    Tcp = 1,
    Udp = 2,
}
