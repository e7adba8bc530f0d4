using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Benchmarks;

/// <summary>Runs the source generator in-process (as the compiler does) and, when asked, compiles and loads its output.</summary>
public static class GeneratorRun
{
    // The generator as the analyzer reference built it, loaded once.
    private static readonly Lazy<IIncrementalGenerator> Generator = new(() =>
    {
        var path = typeof(GeneratorRun).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "NicBypassGenerator").Value!;
        var type = Assembly.LoadFrom(path).GetType("NicBypass.Generators.NicDslGenerator", throwOnError: true)!;
        return (IIncrementalGenerator)Activator.CreateInstance(type)!;
    });

    public static GeneratorDriver Driver(string path, string text) => CSharpGeneratorDriver.Create(
        new[] { Generator.Value.AsSourceGenerator() },
        new AdditionalText[] { new Text(path, text) },
        new CSharpParseOptions(LanguageVersion.Latest),
        new Options());

    public static CSharpCompilation EmptyCompilation() => CSharpCompilation.Create("Bench",
        new[] { CSharpSyntaxTree.ParseText("namespace Bench { }") },
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .Append(MetadataReference.CreateFromFile(typeof(NetworkHost).Assembly.Location)),
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release, nullableContextOptions: NullableContextOptions.Enable));

    /// <summary>Generates, compiles (optimised) and loads the code for <paramref name="text"/>.</summary>
    public static Assembly Load(string text)
    {
        Driver("/bench/gen.nicdsl", text).RunGeneratorsAndUpdateCompilation(EmptyCompilation(), out var output, out var diagnostics);
        var errors = diagnostics.Concat(output.GetDiagnostics()).Where(d => d.Severity == DiagnosticSeverity.Error || d.Id == "CS8784").ToList();
        if (errors.Count > 0) throw new InvalidOperationException(string.Join("\n", errors.Take(5)));
        using var stream = new MemoryStream();
        var emitted = output.Emit(stream);
        if (!emitted.Success) throw new InvalidOperationException(string.Join("\n", emitted.Diagnostics.Take(5)));
        return Assembly.Load(stream.ToArray());
    }

    private sealed class Text(string path, string text) : AdditionalText
    {
        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
    }

    private sealed class Options : AnalyzerConfigOptionsProvider
    {
        private static readonly AnalyzerConfigOptions Global = new Values(new Dictionary<string, string> { ["build_property.RootNamespace"] = "Bench", ["build_property.ProjectDir"] = "/bench/" });
        private static readonly AnalyzerConfigOptions Empty = new Values(new Dictionary<string, string>());

        public override AnalyzerConfigOptions GlobalOptions => Global;

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Empty;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Empty;
    }

    private sealed class Values(Dictionary<string, string> values) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, out string value) => values.TryGetValue(key, out value!);
    }
}
