namespace NicBypass.Dsl.Binding;

/// <summary>One property of the language: where it may appear, whether it may repeat, and an example line.</summary>
public sealed record PropertyRule(string Name, BlockKind Blocks, bool Repeatable, string Example);
