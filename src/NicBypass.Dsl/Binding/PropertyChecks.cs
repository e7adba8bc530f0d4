using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Syntax;

namespace NicBypass.Dsl.Binding;

/// <summary>
/// Checks each property line against the language's property table (<see cref="PropertyRules"/>)
/// before it is bound: unknown (NB0002), given twice (NB0004), without a value (NB0001); and
/// required properties that are missing (NB0011).
/// </summary>
internal sealed class PropertyChecks(BindingContext context)
{
    // Unknown (NB0002), duplicate (NB0004) and value-less (NB0001) properties are reported here;
    // the caller sees only properties worth binding.
    public PropertyRule? Check(PropertySyntax property, BlockKind block, string owner, Dictionary<string, PropertySyntax> seen)
    {
        var name = property.Name.Text;
        var rule = PropertyRules.Find(name, block);
        if (rule is null)
        {
            var elsewhere = PropertyRules.All.FirstOrDefault(r => r.Name == name);
            var extra = elsewhere is not null
                ? $"; '{name}' belongs in {DescribeBlocks(elsewhere.Blocks)}{(name == "mode" ? " (VMs are always interrupt-driven)" : "")}"
                : NameSuggestions.Hint(name, PropertyRules.NamesFor(block));
            context.Report(DiagnosticDescriptors.UnknownProperty, property.Name.Span, null, name, owner, extra);
            return null;
        }
        if (!rule.Repeatable && seen.TryGetValue(name, out var first))
        {
            context.Report(DiagnosticDescriptors.DuplicateProperty, property.Name.Span, new[] { context.Location(first.Name.Span) }, name, owner);
            return null;
        }
        seen[name] = property;
        if (property.Values.Count == 0)
        {
            context.Report(DiagnosticDescriptors.SyntaxError, property.Name.Span, null, $"'{name}' has no value", $"a value, e.g. '{rule.Example}'");
            return null;
        }
        return rule;
    }

    // NB0011, unless a misspelling of the property was already reported (NB0002 suggested it).
    public void Require(BlockSyntax block, BlockKind kind, Dictionary<string, PropertySyntax> seen, SyntaxToken name, string owner, string property, string example)
    {
        if (seen.ContainsKey(property)) return;
        var misspelt = block.Properties.Any(p => PropertyRules.Find(p.Name.Text, kind) is null
                                                 && NameSuggestions.Closest(p.Name.Text, PropertyRules.NamesFor(kind)) == property);
        if (!misspelt) context.Report(DiagnosticDescriptors.MissingProperty, name.Span, null, owner, property, example);
    }

    private static string DescribeBlocks(BlockKind blocks)
    {
        var names = new List<string>();
        if ((blocks & BlockKind.Host) != 0) names.Add("host");
        if ((blocks & BlockKind.Nic) != 0) names.Add("nic");
        if ((blocks & BlockKind.Vm) != 0) names.Add("vm");
        if ((blocks & BlockKind.Container) != 0) names.Add("container");
        if ((blocks & BlockKind.Service) != 0) names.Add("service");
        return string.Join(", ", names) + " blocks";
    }
}
