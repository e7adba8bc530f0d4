namespace NicBypass.Dsl.Binding;

/// <summary>Finds the closest valid name for a misspelt one ("did you mean 'rx-rings'?").</summary>
public static class NameSuggestions
{
    /// <summary>The longest name a suggestion is looked for (or offered).</summary>
    public const int MaxLength = 64;

    /// <summary>The candidate nearest to <paramref name="input"/> by edit distance, if near enough to be a typo.</summary>
    public static string? Closest(string input, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        // Names are short: a typo of one is too. Past this, no suggestion (and no cost).
        if (input.Length > MaxLength) return null;
        var limit = Math.Max(2, input.Length / 3);
        var lower = input.ToLowerInvariant();
        foreach (var candidate in candidates)
        {
            // The distance is at least the difference in length: skip what cannot be near.
            if (candidate.Length > MaxLength || Math.Abs(candidate.Length - input.Length) > limit) continue;
            var distance = Distance(lower, candidate.ToLowerInvariant());
            // A name with nothing kept of a typed one of two letters or more is no typo of it
            // ('zz' is not 'a' misspelt); a one-letter name may be a neighbouring key ('m' for 'n').
            if (input.Length >= 2 && distance >= Math.Max(input.Length, candidate.Length)) continue;
            // Ties go to the candidate that shares the longer prefix ("simnic-10" → "simnic-10g").
            if (distance < bestDistance || (distance == bestDistance && best is not null && CommonPrefix(input, candidate) > CommonPrefix(input, best)))
            {
                bestDistance = distance;
                best = candidate;
            }
        }
        return bestDistance <= limit ? best : null;
    }

    /// <summary>" (did you mean 'x'?)" or empty.</summary>
    public static string Hint(string input, IEnumerable<string> candidates) =>
        Closest(input, candidates) is { } match ? $" (did you mean '{match}'?)" : "";

    private static int CommonPrefix(string a, string b)
    {
        var n = 0;
        while (n < a.Length && n < b.Length && a[n] == b[n]) n++;
        return n;
    }

    // Optimal string alignment distance: Levenshtein plus adjacent transpositions ("modle" → "model").
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                var value = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) value = Math.Min(value, d[i - 2, j - 2] + 1);
                d[i, j] = value;
            }
        }
        return d[a.Length, b.Length];
    }
}
