namespace NicBypass.Dsl.Diagnostics;

/// <summary>
/// Every diagnostic the language reports, in one place. The IDs are a contract (docs/diagnostics.md):
/// tools and users filter on them. Each is documented in docs/diagnostics.md under its ID.
/// </summary>
public static class DiagnosticDescriptors
{
    public static readonly DiagnosticDescriptor SyntaxError = new("NB0001", DiagnosticSeverity.Error,
        "Syntax error", "{0}; expected {1}",
        "The file does not follow the grammar of .nicdsl: a token is missing or out of place, or a block is never closed. The host block holding the error is dropped until it parses; the file's other hosts and other files are still checked and generated.");

    public static readonly DiagnosticDescriptor UnknownProperty = new("NB0002", DiagnosticSeverity.Error,
        "Unknown property", "'{0}' is not a property of {1}{2}",
        "A property line names a property this kind of block does not have. The closest valid name is suggested, or the block where the property belongs.");

    public static readonly DiagnosticDescriptor DuplicateName = new("NB0003", DiagnosticSeverity.Error,
        "Duplicate declaration name", "{0} '{1}' is already declared in {2}; give each declaration its own name",
        "Two declarations in one host (NICs, VMs, containers, services) share a name; names are one namespace per host.");

    public static readonly DiagnosticDescriptor DuplicateProperty = new("NB0004", DiagnosticSeverity.Error,
        "Property given twice", "'{0}' is already set for {1}; only 'mac', 'ip', 'multicast' and 'gateway' may repeat — remove one of them",
        "A property that takes one value is given twice in one block; only 'mac', 'ip', 'multicast' and 'gateway' may repeat.");

    public static readonly DiagnosticDescriptor MalformedMac = new("NB0005", DiagnosticSeverity.Error,
        "Malformed MAC address", "'{0}' is not a MAC address; write six two-digit hex bytes separated by ':' (e.g. 02:08:20:ac:00:01)",
        "A 'mac' value is not six two-digit hexadecimal bytes separated by ':'.");

    public static readonly DiagnosticDescriptor MacNotAssignable = new("NB0006", DiagnosticSeverity.Error,
        "MAC address not assignable", "MAC {0} cannot be a VNIC's address: {1}; use a unicast address such as 02:xx:xx:xx:xx:xx (locally administered)",
        "A MAC that cannot be a VNIC's own address: all zeros, broadcast, or with the group (multicast) bit set.");

    public static readonly DiagnosticDescriptor DuplicateMac = new("NB0007", DiagnosticSeverity.Error,
        "MAC address used twice on a NIC", "MAC {0} is already used by {1} on NIC '{2}'; {3}",
        "Two VNICs on one NIC claim the same MAC, so the classifier could not tell their frames apart.");

    public static readonly DiagnosticDescriptor MalformedIp = new("NB0008", DiagnosticSeverity.Error,
        "Malformed IP address or prefix", "'{0}' is not an IP address: {1}; {2}",
        "An 'ip', 'gateway', 'multicast' or flow 'remote-ip' value is not an IPv4 or IPv6 address (with a prefix length where one may be given), nor — for 'ip' — 'dhcp'.");

    public static readonly DiagnosticDescriptor DuplicateIp = new("NB0009", DiagnosticSeverity.Error,
        "IP address used twice on a NIC and VLAN", "IP {0} is already used by {1} on NIC '{2}' {3}; {4}",
        "Two VNICs on one NIC and VLAN claim the same IP address.");

    public static readonly DiagnosticDescriptor UnknownNic = new("NB0010", DiagnosticSeverity.Error,
        "Unknown NIC", "{0} is on NIC '{1}', but host '{2}' declares no such NIC{3}",
        "A VM, container or service is placed 'on' a NIC that its host does not declare.");

    public static readonly DiagnosticDescriptor MissingProperty = new("NB0011", DiagnosticSeverity.Error,
        "Required property missing", "{0} has no '{1}'; add a line such as '{2}'",
        "A block lacks a property it cannot do without: a NIC's 'model' or 'rx-rings', a VNIC's 'mac'.");

    public static readonly DiagnosticDescriptor RingCountOutOfRange = new("NB0012", DiagnosticSeverity.Error,
        "Count outside the model's range", "{0} {1} is outside 1..{2}, the most model {3} has; use a value in that range",
        "A ring or MSI-vector count is more than the NIC model has.");

    public static readonly DiagnosticDescriptor RingSizeInvalid = new("NB0013", DiagnosticSeverity.Error,
        "Ring size not a power of two in 16..65536", "ring-size {0} is not a power of two in 16..65536; use e.g. {1}",
        "A NIC's 'ring-size' is not a power of two between 16 and 65536 (rings index with a mask).");

    public static readonly DiagnosticDescriptor MalformedNumber = new("NB0014", DiagnosticSeverity.Error,
        "Malformed or non-positive rate or number", "'{0}' is not a valid {1}: {2}",
        "A number or rate is malformed, zero or negative where it must be positive, or below the least the property allows.");

    public static readonly DiagnosticDescriptor AllocationExceedsLink = new("NB0015", DiagnosticSeverity.Error,
        "Allocation exceeds the link speed", "{0} exceeds the {1} link speed of NIC '{2}'; lower it to at most {1}",
        "One allocation (or a NIC's 'speed') is larger than the NIC's link can ever carry.");

    public static readonly DiagnosticDescriptor Oversubscribed = new("NB0016", DiagnosticSeverity.Warning,
        "NIC oversubscribed", "{0} allocations on NIC '{1}' add up to {2}, more than its {3} link speed; under load some VNICs will get less than they were given",
        "The allocations on one NIC add up to more than its link speed: under load some VNICs will get less than they were given.");

    public static readonly DiagnosticDescriptor NoHardwareRingLeft = new("NB0017", DiagnosticSeverity.Error,
        "Hardware ring policy cannot be honoured", "{0} asks for 'ring hardware', but NIC '{1}' has no hardware ring left: {2}; {3}",
        "A VNIC insists on a hardware receive ring of its own ('ring hardware'), but the NIC has none left for it.");

    public static readonly DiagnosticDescriptor ClassifierFull = new("NB0018", DiagnosticSeverity.Warning,
        "Hardware classifier too small", "NIC '{0}' needs {1} hardware classifier entries (one per VNIC MAC) but model {2} has {3}: {4}",
        "A NIC has more VNIC MACs than its hardware classifier has entries: the VNICs that do not fit are classified in software on the default ring (a warning), which a VNIC with 'ring hardware' cannot accept (an error).");

    public static readonly DiagnosticDescriptor BandwidthNotEnforced = new("NB0019", DiagnosticSeverity.Warning,
        "Bandwidth not enforced in interrupt mode", "{0} has a bandwidth of {1} but 'mode interrupt': only polling mode enforces it; use 'mode polling' or drop 'bandwidth'",
        "A container or service has an inbound 'bandwidth' but 'mode interrupt': only polling mode enforces an allocation.");

    public static readonly DiagnosticDescriptor CpuOutOfRange = new("NB0020", DiagnosticSeverity.Error,
        "CPU outside the host", "cpu {0} is outside 0..{1}: host '{2}' has {3}; use a CPU in that range or raise 'cpus'",
        "A VNIC's 'cpu' is not one of its host's processors (0..cpus-1).");

    public static readonly DiagnosticDescriptor InvalidPort = new("NB0021", DiagnosticSeverity.Error,
        "Invalid port or ports without protocols", "the ports of {0}: {1}; {2}",
        "A port is outside 1..65535 or listed twice, or 'ports' is given without 'protocols' to say which transports they are for.");

    public static readonly DiagnosticDescriptor MsiShared = new("NB0022", DiagnosticSeverity.Warning,
        "Hardware rings share MSI vectors", "NIC '{0}' uses {1} hardware receive rings but only {2} MSI vectors, so rings share vectors; raise 'msi' (the model allows {3}) for one vector per ring",
        "A NIC uses more hardware receive rings than MSI vectors, so some rings share an interrupt vector.");

    public static readonly DiagnosticDescriptor NicUnused = new("NB0023", DiagnosticSeverity.Warning,
        "NIC with no VNICs", "NIC '{0}' has no VNICs on it; put a vm, container or service 'on {0}', or remove the NIC",
        "A NIC has no VNICs on it: it will receive frames nobody takes.");

    public static readonly DiagnosticDescriptor IdentifierCollision = new("NB0024", DiagnosticSeverity.Error,
        "Names collide in generated code", "{0} '{1}' and {2} both become the C# identifier '{3}'; rename one of them",
        "Two names map to the same C# identifier in the generated host class (names are PascalCased and '-' removed), or a name takes one the class already has.");

    public static readonly DiagnosticDescriptor UnknownModel = new("NB0025", DiagnosticSeverity.Error,
        "Unknown NIC model", "unknown NIC model '{0}'{1}; the known models are {2}",
        "A NIC's 'model' is not in the NIC model catalogue.");

    public static readonly DiagnosticDescriptor VlanOutOfRange = new("NB0026", DiagnosticSeverity.Error,
        "VLAN id out of range", "vlan {0} is outside 1..4094; use a VLAN id in that range",
        "A 'vlan' is outside 1..4094.");

    public static readonly DiagnosticDescriptor PlacementSummary = new("NB0027", DiagnosticSeverity.Info,
        "Placement summary", "NIC '{0}': {1}",
        "The placement needed software rings: which VNICs share a hardware ring through a software ring, and why the others got dedicated rings.");

    public static readonly DiagnosticDescriptor MtuOutOfRange = new("NB0028", DiagnosticSeverity.Error,
        "MTU out of range", "mtu {0} is outside 576..{1}, the range model {2} allows; use a value in that range",
        "A NIC's 'mtu' is outside 576..the model's largest.");

    /// <summary>An extension of the original table of diagnostics: a keyword value that is not one of the allowed words.</summary>
    public static readonly DiagnosticDescriptor InvalidValue = new("NB0029", DiagnosticSeverity.Error,
        "Invalid property value", "'{0}' is not a valid value for '{1}': {2}",
        "A property that takes a keyword got another word, or more values than it takes.");

    /// <summary>An extension: the generator failed on a file; reported on the file instead of crashing the build.</summary>
    public static readonly DiagnosticDescriptor InternalError = new("NB0030", DiagnosticSeverity.Error,
        "Internal error", "NicBypass could not process this file: {0}; please report it with the file attached",
        "The generator failed on a file in a way it did not expect; the build reports it on the file instead of crashing.");

    /// <summary>An extension: software rings would nest deeper than the runtime, the generated code and the plan's JSON can carry.</summary>
    public static readonly DiagnosticDescriptor NotAMulticastGroup = new("NB0032", DiagnosticSeverity.Error,
        "Not a multicast group", "{0}: 'multicast {1}' is not a multicast group address; {2}",
        "A 'multicast' line names an address outside the multicast ranges (224.0.0.0/4, ff00::/8).");

    public static readonly DiagnosticDescriptor FlowOnUnknownVnic = new("NB0033", DiagnosticSeverity.Error,
        "Flow on an unknown VNIC", "flow '{0}' is on '{1}', which host '{2}' does not declare as a vm, container or service{3}",
        "A flow's 'on' names no VNIC of the host: a flow selects part of one VNIC's traffic.");

    public static readonly DiagnosticDescriptor FlowsOverlap = new("NB0034", DiagnosticSeverity.Error,
        "Flows overlap", "flows '{0}' and '{1}' on '{2}' overlap: a frame could belong to both; give them different transports, ports or remote addresses",
        "Two flows on one VNIC could both match one frame (each field is absent in one of them or overlaps), so which one counts and limits it would be a matter of order.");

    public static readonly DiagnosticDescriptor FlowFieldWithoutTransport = new("NB0035", DiagnosticSeverity.Error,
        "Flow port without a transport", "{0}: '{1}' needs 'transport tcp' or 'transport udp' (a port means nothing without one)",
        "A flow selects a local or remote port but no transport: ports belong to TCP or UDP.");

    public static readonly DiagnosticDescriptor GatewayUnreachable = new("NB0036", DiagnosticSeverity.Error,
        "Gateway not on a subnet of the VNIC", "{0}: 'gateway {1}': {2}",
        "A VNIC's router must be reachable on its own link: an address inside one of its subnets (ip ADDRESS/LENGTH), one per family.");

    public static readonly DiagnosticDescriptor SoftwareRingsTooDeep = new("NB0031", DiagnosticSeverity.Error,
        "Software rings nest too deep", "NIC '{0}': {1} VNICs share its last hardware ring through software rings {2} wide, nested {3} deep; at most {4} levels: set 'soft-ring-width {5}' or more, or give it more rx-rings",
        "Past a NIC's hardware rings, VNICs share software rings of soft-ring-width SRRs, nesting on the last one; each level classifies every VNIC below it, so depth is bounded.");

    public static readonly DiagnosticDescriptor TooManyDeclarations = new("NB0037", DiagnosticSeverity.Error,
        "Too many declarations", "{0} declares more than {1} {2}: at most {1}; this one and those after it are left out",
        "A host holds at most 256 NICs, 16,384 VMs, containers and services together, and 1,024 flows; a VNIC lists at most 256 MACs, 256 addresses, 256 multicast groups and 1,024 ports: the bounds keep every stage of the build linear in its input.");

    public static readonly DiagnosticDescriptor NotAHostAddress = new("NB0038", DiagnosticSeverity.Error,
        "Not a host address", "{0}: 'ip {1}' cannot be a VNIC's own address: it is {2}",
        "A VNIC's 'ip' must be an address a host can hold: not unspecified (0.0.0.0, ::), loopback (127.0.0.0/8, ::1), a multicast group, IPv4's limited broadcast or 0.0.0.0/8.");

    public static readonly DiagnosticDescriptor NoHostDeclared = new("NB0039", DiagnosticSeverity.Warning,
        "No host declared", "the file declares no host ('host NAME {{ … }}'): nothing is built from it",
        "A .nicdsl file describes hosts ('host NAME { … }'); one with none (empty, or only comments) builds nothing, which is rarely what was meant. Not reported when the file's syntax errors left its hosts out.");

    public static readonly DiagnosticDescriptor DeadFlow = new("NB0040", DiagnosticSeverity.Warning,
        "Flow no frame can reach", "flow '{0}' on {1} can never see a frame: {2}; the classifier drops every such frame as no-match before flows sort them",
        "A flow on a container or service that declares ports selects a transport it does not serve or a local port it does not declare (and not an ephemeral one, 49152–65535): the classifier's port check drops all of that flow's frames first, so the flow counts nothing and its allocation limits nothing.");

    /// <summary>All descriptors, in ID order.</summary>
    public static IReadOnlyList<DiagnosticDescriptor> All { get; } = new[]
    {
        SyntaxError, UnknownProperty, DuplicateName, DuplicateProperty, MalformedMac, MacNotAssignable, DuplicateMac,
        MalformedIp, DuplicateIp, UnknownNic, MissingProperty, RingCountOutOfRange, RingSizeInvalid, MalformedNumber,
        AllocationExceedsLink, Oversubscribed, NoHardwareRingLeft, ClassifierFull, BandwidthNotEnforced, CpuOutOfRange,
        InvalidPort, MsiShared, NicUnused, IdentifierCollision, UnknownModel, VlanOutOfRange, PlacementSummary, MtuOutOfRange,
        InvalidValue, InternalError, SoftwareRingsTooDeep, NotAMulticastGroup, FlowOnUnknownVnic, FlowsOverlap, FlowFieldWithoutTransport, GatewayUnreachable,
        TooManyDeclarations, NotAHostAddress, NoHostDeclared, DeadFlow,
    };
}
