using System.Text;

namespace NicBypass.Dsl.Binding;

/// <summary>
/// How .nicdsl names become C# identifiers in generated code: PascalCase, '-' removed
/// (<c>web-01</c> → <c>Web01</c>). Two names that map to one identifier are NB0024.
/// </summary>
public static class Identifiers
{
    /// <summary>Members every generated host class has; a declaration may not take their names.</summary>
    public static readonly IReadOnlyCollection<string> Reserved = new HashSet<string>(StringComparer.Ordinal)
    {
        "Host", "Placement", "Dispose", "Equals", "GetHashCode", "GetType", "ToString", "MemberwiseClone", "Finalize",
        "ReferenceEquals", // object's static one: a property of that name hid it (CS0108 in generated code; found by a new user's drive)
    };

    /// <summary>
    /// The longest name: a C# identifier past about a thousand characters does not fit the
    /// metadata (CS7013 in generated code, not a located NB error; found by a new user's drive),
    /// and 255 is as long as any name a person or a tool writes.
    /// </summary>
    public const int MaxNameLength = 255;

    public static string ToPascalCase(string name)
    {
        var builder = new StringBuilder(name.Length);
        var upper = true;
        foreach (var c in name)
        {
            if (c == '-')
            {
                upper = true;
                continue;
            }
            builder.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }
        return builder.ToString();
    }

    /// <summary>A name: a letter, then letters, digits and '-'.</summary>
    public static bool IsValidName(string text)
    {
        if (text.Length == 0 || text.Length > MaxNameLength || !IsAsciiLetter(text[0])) return false;
        foreach (var c in text)
        {
            if (!(IsAsciiLetter(c) || c is >= '0' and <= '9' || c == '-')) return false;
        }
        return true;
    }

    private static bool IsAsciiLetter(char c) => c is >= 'a' and <= 'z' or >= 'A' and <= 'Z';
}
