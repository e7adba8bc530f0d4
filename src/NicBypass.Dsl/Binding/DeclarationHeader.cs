using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Syntax;

namespace NicBypass.Dsl.Binding;

/// <summary>Checks a declaration's header: <c>nic NAME {</c>, or <c>vm|container|service NAME on NIC {</c> (NB0001 otherwise).</summary>
internal static class DeclarationHeader
{
    // Header shapes: `nic NAME {` and `vm|container|service NAME on NIC {`.
    public static bool Check(BindingContext context, BlockSyntax block, string keyword)
    {
        var header = block.Header;
        if (header.Count < 2)
        {
            context.Report(DiagnosticDescriptors.SyntaxError, block.OpenBrace, null, $"no name after '{keyword}'", $"a name, e.g. '{keyword} {(keyword == "nic" ? "nge0" : "guest1 on nge0")} {{'");
            return false;
        }
        if (!Identifiers.IsValidName(header[1].Text))
        {
            context.Report(DiagnosticDescriptors.SyntaxError, header[1].Span, null, Binder.InvalidName(header[1].Text), Binder.ValidName);
            return false;
        }
        if (keyword == "nic")
        {
            if (header.Count > 2)
            {
                context.Report(DiagnosticDescriptors.SyntaxError, header[2].Span, null, $"unexpected '{header[2].Text}'", $"'{{': a NIC is declared as 'nic {header[1].Text} {{'");
                return false;
            }
            return true;
        }
        var target = keyword == "flow" ? "vnic" : "nic";
        if (header.Count == 2)
        {
            context.Report(DiagnosticDescriptors.SyntaxError, block.OpenBrace, null, $"no 'on' and {target.ToUpperInvariant()} name before '{{'", $"'on <{target}>': write '{keyword} {header[1].Text} on <{target}> {{'");
            return false;
        }
        if (header[2].Text != "on")
        {
            context.Report(DiagnosticDescriptors.SyntaxError, header[2].Span, null, $"unexpected '{header[2].Text}'", $"'on': write '{keyword} {header[1].Text} on <{target}> {{'");
            return false;
        }
        if (header.Count == 3)
        {
            context.Report(DiagnosticDescriptors.SyntaxError, block.OpenBrace, null, $"no {target.ToUpperInvariant()} name after 'on'",
                keyword == "flow" ? "the name of one of the host's VMs, containers or services" : "the name of one of the host's NICs");
            return false;
        }
        if (header.Count > 4)
        {
            context.Report(DiagnosticDescriptors.SyntaxError, header[4].Span, null, $"unexpected '{header[4].Text}'", "'{'");
            return false;
        }
        return true;
    }
}
