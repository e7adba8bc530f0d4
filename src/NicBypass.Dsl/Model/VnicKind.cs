namespace NicBypass.Dsl.Model;

/// <summary>What sits behind a VNIC: a VM (through an interface, with its own guest stack) or a
/// packet destination — a container or service — with a virtual network stack of its own.</summary>
public enum VnicKind
{
    Vm,
    Container,
    Service,
}
