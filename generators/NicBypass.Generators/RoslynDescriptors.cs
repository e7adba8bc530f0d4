using Microsoft.CodeAnalysis;
using Language = NicBypass.Dsl.Diagnostics.DiagnosticDescriptors;
using DslDescriptor = NicBypass.Dsl.Diagnostics.DiagnosticDescriptor;
using RoslynDescriptor = Microsoft.CodeAnalysis.DiagnosticDescriptor;

namespace NicBypass.Generators;

/// <summary>
/// The language's diagnostics as Roslyn descriptors, one field per ID with its ID and severity
/// written out, so Roslyn's release tracking (AnalyzerReleases.Shipped.md / Unshipped.md) sees
/// every rule the generator reports. Title, description and help link come from the language's
/// <see cref="Language"/>; the message is finished by the language (the text <c>nicbypass check</c>
/// prints), so the format is "{0}". A test keeps IDs and severities in step with the language.
/// </summary>
internal static class RoslynDescriptors
{
    private const string Category = "NicBypass";

    public static readonly RoslynDescriptor SyntaxError = Create("NB0001", DiagnosticSeverity.Error, Language.SyntaxError);
    public static readonly RoslynDescriptor UnknownProperty = Create("NB0002", DiagnosticSeverity.Error, Language.UnknownProperty);
    public static readonly RoslynDescriptor DuplicateName = Create("NB0003", DiagnosticSeverity.Error, Language.DuplicateName);
    public static readonly RoslynDescriptor DuplicateProperty = Create("NB0004", DiagnosticSeverity.Error, Language.DuplicateProperty);
    public static readonly RoslynDescriptor MalformedMac = Create("NB0005", DiagnosticSeverity.Error, Language.MalformedMac);
    public static readonly RoslynDescriptor MacNotAssignable = Create("NB0006", DiagnosticSeverity.Error, Language.MacNotAssignable);
    public static readonly RoslynDescriptor DuplicateMac = Create("NB0007", DiagnosticSeverity.Error, Language.DuplicateMac);
    public static readonly RoslynDescriptor MalformedIp = Create("NB0008", DiagnosticSeverity.Error, Language.MalformedIp);
    public static readonly RoslynDescriptor DuplicateIp = Create("NB0009", DiagnosticSeverity.Error, Language.DuplicateIp);
    public static readonly RoslynDescriptor UnknownNic = Create("NB0010", DiagnosticSeverity.Error, Language.UnknownNic);
    public static readonly RoslynDescriptor MissingProperty = Create("NB0011", DiagnosticSeverity.Error, Language.MissingProperty);
    public static readonly RoslynDescriptor RingCountOutOfRange = Create("NB0012", DiagnosticSeverity.Error, Language.RingCountOutOfRange);
    public static readonly RoslynDescriptor RingSizeInvalid = Create("NB0013", DiagnosticSeverity.Error, Language.RingSizeInvalid);
    public static readonly RoslynDescriptor MalformedNumber = Create("NB0014", DiagnosticSeverity.Error, Language.MalformedNumber);
    public static readonly RoslynDescriptor AllocationExceedsLink = Create("NB0015", DiagnosticSeverity.Error, Language.AllocationExceedsLink);
    public static readonly RoslynDescriptor Oversubscribed = Create("NB0016", DiagnosticSeverity.Warning, Language.Oversubscribed);
    public static readonly RoslynDescriptor NoHardwareRingLeft = Create("NB0017", DiagnosticSeverity.Error, Language.NoHardwareRingLeft);
    public static readonly RoslynDescriptor ClassifierFull = Create("NB0018", DiagnosticSeverity.Warning, Language.ClassifierFull);
    public static readonly RoslynDescriptor BandwidthNotEnforced = Create("NB0019", DiagnosticSeverity.Warning, Language.BandwidthNotEnforced);
    public static readonly RoslynDescriptor CpuOutOfRange = Create("NB0020", DiagnosticSeverity.Error, Language.CpuOutOfRange);
    public static readonly RoslynDescriptor InvalidPort = Create("NB0021", DiagnosticSeverity.Error, Language.InvalidPort);
    public static readonly RoslynDescriptor MsiShared = Create("NB0022", DiagnosticSeverity.Warning, Language.MsiShared);
    public static readonly RoslynDescriptor NicUnused = Create("NB0023", DiagnosticSeverity.Warning, Language.NicUnused);
    public static readonly RoslynDescriptor IdentifierCollision = Create("NB0024", DiagnosticSeverity.Error, Language.IdentifierCollision);
    public static readonly RoslynDescriptor UnknownModel = Create("NB0025", DiagnosticSeverity.Error, Language.UnknownModel);
    public static readonly RoslynDescriptor VlanOutOfRange = Create("NB0026", DiagnosticSeverity.Error, Language.VlanOutOfRange);
    public static readonly RoslynDescriptor PlacementSummary = Create("NB0027", DiagnosticSeverity.Info, Language.PlacementSummary);
    public static readonly RoslynDescriptor MtuOutOfRange = Create("NB0028", DiagnosticSeverity.Error, Language.MtuOutOfRange);
    public static readonly RoslynDescriptor InvalidValue = Create("NB0029", DiagnosticSeverity.Error, Language.InvalidValue);
    public static readonly RoslynDescriptor InternalError = Create("NB0030", DiagnosticSeverity.Error, Language.InternalError);

    public static readonly RoslynDescriptor SoftwareRingsTooDeep = Create("NB0031", DiagnosticSeverity.Error, Language.SoftwareRingsTooDeep);
    public static readonly RoslynDescriptor NotAMulticastGroup = Create("NB0032", DiagnosticSeverity.Error, Language.NotAMulticastGroup);
    public static readonly RoslynDescriptor FlowOnUnknownVnic = Create("NB0033", DiagnosticSeverity.Error, Language.FlowOnUnknownVnic);
    public static readonly RoslynDescriptor FlowsOverlap = Create("NB0034", DiagnosticSeverity.Error, Language.FlowsOverlap);
    public static readonly RoslynDescriptor FlowFieldWithoutTransport = Create("NB0035", DiagnosticSeverity.Error, Language.FlowFieldWithoutTransport);

    public static readonly RoslynDescriptor GatewayUnreachable = Create("NB0036", DiagnosticSeverity.Error, Language.GatewayUnreachable);
    public static readonly RoslynDescriptor TooManyDeclarations = Create("NB0037", DiagnosticSeverity.Error, Language.TooManyDeclarations);
    public static readonly RoslynDescriptor NotAHostAddress = Create("NB0038", DiagnosticSeverity.Error, Language.NotAHostAddress);
    public static readonly RoslynDescriptor NoHostDeclared = Create("NB0039", DiagnosticSeverity.Warning, Language.NoHostDeclared);
    public static readonly RoslynDescriptor DeadFlow = Create("NB0040", DiagnosticSeverity.Warning, Language.DeadFlow);

    /// <summary>Every descriptor, in ID order.</summary>
    public static IReadOnlyList<RoslynDescriptor> All { get; } = new[]
    {
        SyntaxError, UnknownProperty, DuplicateName, DuplicateProperty, MalformedMac, MacNotAssignable, DuplicateMac, MalformedIp, DuplicateIp, UnknownNic, MissingProperty, RingCountOutOfRange, RingSizeInvalid, MalformedNumber, AllocationExceedsLink, Oversubscribed, NoHardwareRingLeft, ClassifierFull, BandwidthNotEnforced, CpuOutOfRange, InvalidPort, MsiShared, NicUnused, IdentifierCollision, UnknownModel, VlanOutOfRange, PlacementSummary, MtuOutOfRange, InvalidValue, InternalError, SoftwareRingsTooDeep, NotAMulticastGroup, FlowOnUnknownVnic, FlowsOverlap, FlowFieldWithoutTransport, GatewayUnreachable, TooManyDeclarations, NotAHostAddress, NoHostDeclared, DeadFlow,
    };

    private static RoslynDescriptor Create(string id, DiagnosticSeverity severity, DslDescriptor source) =>
        new(id, source.Title, "{0}", Category, severity, isEnabledByDefault: true, description: source.Description, helpLinkUri: source.HelpLink);
}
