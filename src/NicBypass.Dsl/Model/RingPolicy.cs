namespace NicBypass.Dsl.Model;

/// <summary><c>ring hardware</c>: the VNIC must get its own hardware receive ring;
/// <c>ring any</c> (default): a software receive ring will do when rings run out.</summary>
public enum RingPolicy
{
    Any,
    Hardware,
}
