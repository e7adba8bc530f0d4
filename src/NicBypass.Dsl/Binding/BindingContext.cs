using NicBypass.Dsl.Diagnostics;
using NicBypass.Dsl.Text;

namespace NicBypass.Dsl.Binding;

/// <summary>
/// What every part of binding one file shares: where diagnostics go and how a span becomes a
/// location in the file.
/// </summary>
internal sealed class BindingContext
{
    private readonly List<Diagnostic> _diagnostics;

    public BindingContext(string path, List<Diagnostic> diagnostics)
    {
        Path = path;
        _diagnostics = diagnostics;
    }

    public string Path { get; }

    public SourceLocation Location(TextSpan span) => new(Path, span);

    /// <summary>Errors reported so far (a binder compares before and after a block to know whether it bound whole).</summary>
    public int Errors { get; private set; }

    public void Report(DiagnosticDescriptor descriptor, TextSpan span, IEnumerable<SourceLocation>? related, params object[] args)
    {
        if (descriptor.Severity == DiagnosticSeverity.Error) Errors++;
        _diagnostics.Add(Diagnostic.Create(descriptor, Location(span), related, args));
    }
}
