namespace NicBypass.Runtime.Virtualization;

/// <summary>What is behind a VNIC.</summary>
public enum VnicRole
{
    VirtualMachine,
    Container,
    Service,
}
