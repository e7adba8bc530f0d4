using NicBypass.Dsl.Text;
using Sprache;

namespace NicBypass.Dsl.Parsing;

/// <summary>
/// A Sprache input over one text: a position and the text, and a memo dictionary only if a
/// combinator asks for one. Sprache's own <c>Input</c> allocates a memo dictionary with every
/// <c>Advance</c>; here an input is one small object that dies young (positions are not cached:
/// a cache kept every position of a large file alive to the end of the parse), and token parsers
/// jump to the end of a token in one step instead of advancing character by character.
/// </summary>
internal sealed class TextInput : IInput
{
    private readonly LineMap _lines;
    private IDictionary<object, object>? _memos;

    private TextInput(string text, LineMap lines, int position)
    {
        Source = text;
        _lines = lines;
        Position = position;
    }

    /// <summary>The input at the start of <paramref name="text"/>.</summary>
    public static TextInput Start(string text, LineMap lines) => new(text, lines, 0);

    public string Source { get; }

    public int Position { get; }

    public bool AtEnd => Position >= Source.Length;

    public char Current => Source[Position];

    public int Line => _lines.Position(Position).Line;

    public int Column => _lines.Position(Position).Column;

    public IDictionary<object, object> Memos => _memos ??= new Dictionary<object, object>();

    public IInput Advance()
    {
        if (AtEnd) throw new InvalidOperationException("The input is already at the end of the source.");
        return At(Position + 1);
    }

    /// <summary>The input at <paramref name="position"/> of the same text.</summary>
    public TextInput At(int position) => new(Source, _lines, position);

    public bool Equals(IInput? other) => other is not null && ReferenceEquals(Source, other.Source) && Position == other.Position;

    public override bool Equals(object? obj) => obj is IInput other && Equals(other);

    public override int GetHashCode() => Position;

    public override string ToString() => $"Line {Line}, Column {Column}";
}
