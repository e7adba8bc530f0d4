using System.Collections.ObjectModel;
using System.Globalization;

namespace NicBypass.Runtime.Accounting;

/// <summary>
/// The read-only lists of a report (drops by reason, NICs, VNICs, flows, processors) as they print:
/// their items, not the list's type name — a failed assertion's message shows the counts. A drop
/// count prints as <c>reason: count</c>.
/// </summary>
internal sealed class ReportList<T>(IList<T> items) : ReadOnlyCollection<T>(items)
{
    public override string ToString() => "[" + string.Join(", ", this.Select(Format)) + "]";

    private static string? Format(T item) => item is KeyValuePair<string, long> count
        ? count.Key + ": " + count.Value.ToString(CultureInfo.InvariantCulture)
        : item?.ToString();
}

/// <summary>Builds <see cref="ReportList{T}"/>s.</summary>
internal static class ReportList
{
    public static ReportList<T> ToReportList<T>(this IEnumerable<T> items) => new(items.ToList());
}
