using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using NicBypass.Runtime.Virtualization;

namespace NicBypass.Generators.Tests;

/// <summary>Runs the generator in-process over in-memory .nicdsl files, as the compiler would.</summary>
internal static class GeneratorHarness
{
    public const string ProjectDir = "/project/";

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .Append(MetadataReference.CreateFromFile(typeof(NetworkHost).Assembly.Location))
            .ToImmutableArray());

    public static CSharpCompilation Compilation(params string[] sources) => CSharpCompilation.Create("Consumer",
        sources.Select(s => CSharpSyntaxTree.ParseText(s, new CSharpParseOptions(LanguageVersion.Latest))),
        References.Value,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, warningLevel: 9999));

    public static GeneratorDriver Driver(IEnumerable<AdditionalText> files, string rootNamespace = "Consumer") =>
        CSharpGeneratorDriver.Create(
            new[] { new NicDslGenerator().AsSourceGenerator() },
            files,
            new CSharpParseOptions(LanguageVersion.Latest),
            new OptionsProvider(rootNamespace),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    public static (GeneratorDriver Driver, Compilation Output, ImmutableArray<Diagnostic> Diagnostics) Run(params (string Path, string Text)[] files)
    {
        var driver = Driver(files.Select(f => (AdditionalText)new InMemoryText(ProjectDir + f.Path, f.Text)));
        driver = driver.RunGeneratorsAndUpdateCompilation(Compilation("namespace Consumer { public static class Marker { } }"), out var output, out var diagnostics);
        return (driver, output, diagnostics);
    }

    public static string Sample(string relative) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "samples", relative));

    internal sealed class InMemoryText(string path, string text) : AdditionalText
    {
        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
    }

    private sealed class OptionsProvider(string rootNamespace) : AnalyzerConfigOptionsProvider
    {
        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(new Dictionary<string, string>
        {
            ["build_property.RootNamespace"] = rootNamespace,
            ["build_property.ProjectDir"] = ProjectDir,
        });

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => new Options(new Dictionary<string, string>());

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => new Options(new Dictionary<string, string>());
    }

    private sealed class Options(Dictionary<string, string> values) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, out string value) => values.TryGetValue(key, out value!);
    }
}
