using NicBypass.Dsl.Binding;

namespace NicBypass.Dsl.Tests;

/// <summary>Properties are bound through their rule: the binders and the language's property table name the same properties.</summary>
public class BinderTableTests
{
    [Fact]
    public void Every_nic_property_in_the_table_has_a_binder_and_no_binder_is_without_a_rule()
    {
        Assert.Equal(PropertyRules.NamesFor(BlockKind.Nic).Order(), NicBinder.Binders.Keys.Order());
    }

    [Fact]
    public void Nb0004_names_exactly_the_properties_that_may_repeat()
    {
        var named = System.Text.RegularExpressions.Regex.Matches(Diagnostics.DiagnosticDescriptors.DuplicateProperty.MessageFormat.Split("only ")[1], "'([a-z-]+)'")
            .Select(m => m.Groups[1].Value);
        Assert.Equal(PropertyRules.All.Where(r => r.Repeatable).Select(r => r.Name).Order(), named.Order());
    }

    [Fact]
    public void Every_vnic_property_in_the_table_has_a_binder_and_no_binder_is_without_a_rule()
    {
        Assert.Equal(PropertyRules.NamesFor(BlockKind.AnyVnic).Order(), VnicBinder.Binders.Keys.Order());
    }
}
