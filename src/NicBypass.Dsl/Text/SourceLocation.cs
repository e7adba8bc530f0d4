namespace NicBypass.Dsl.Text;

/// <summary>A span in a named file: where a diagnostic points and where a declaration lives.</summary>
public readonly record struct SourceLocation(string Path, TextSpan Span)
{
    public override string ToString() => $"{Path}({Span.Line},{Span.Column})";
}
