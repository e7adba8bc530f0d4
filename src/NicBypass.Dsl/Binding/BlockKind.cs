namespace NicBypass.Dsl.Binding;

/// <summary>The kinds of block a property can appear in.</summary>
[Flags]
public enum BlockKind
{
    Host = 1,
    Nic = 2,
    Vm = 4,
    Container = 8,
    Service = 16,
    Destination = Container | Service,
    AnyVnic = Vm | Destination,
    Flow = 32,
}
