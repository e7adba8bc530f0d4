using System.Text.Json;
using NicBypass.Cli.Output;
using NicBypass.Dsl;

namespace NicBypass.Cli.Diff;

/// <summary>
/// Where every VNIC sits, read from the <c>plan --format json</c> contract: the shape a reviewer
/// saves as a baseline and the shape a compilation prints are read by the same code, so a saved
/// plan and a live one compare like for like.
/// </summary>
public sealed class PlacementSnapshot
{
    private PlacementSnapshot(IReadOnlyList<Host> hosts) => Hosts = hosts;

    /// <summary>The hosts, in file order.</summary>
    public IReadOnlyList<Host> Hosts { get; }

    /// <summary>One host's NICs.</summary>
    public sealed record Host(string Name, IReadOnlyList<Nic> Nics);

    /// <summary>One NIC: each VNIC's place, each software ring's size, and the classifier's fallback.</summary>
    public sealed record Nic(
        string Name,
        string Model,
        int HardwareRings,
        int? DefaultRing,
        IReadOnlyDictionary<string, Place> Vnics,
        IReadOnlyDictionary<string, int> SoftwareRings,
        IReadOnlySet<string> SoftwareClassified);

    /// <summary>
    /// A VNIC's place: the hardware ring that carries it and, when it shares that ring, the
    /// innermost software ring and SRR that serve it.
    /// </summary>
    public sealed record Place(int HardwareRing, string? SoftwareRing, int SoftwareRingIndex)
    {
        /// <summary>Whether the VNIC has a hardware ring of its own.</summary>
        public bool Dedicated => SoftwareRing is null;

        public override string ToString() => Dedicated ? $"hrr{HardwareRing}" : $"{SoftwareRing}/srr{SoftwareRingIndex} on hrr{HardwareRing}";
    }

    /// <summary>The placement of a compilation without errors, through the same JSON a saved plan holds.</summary>
    public static PlacementSnapshot Of(DslCompilation compilation)
    {
        var json = new StringWriter();
        PlanJsonWriter.Write(compilation, json);
        return Parse(json.ToString(), "plan");
    }

    private const int MaxDepth = 1024;

    // Whether the text's arrays and objects nest deeper than `limit` (outside strings): JSON that
    // is well formed but too deep for the reader, said as such rather than "not JSON".
    private static bool NestedDeeperThan(string json, int limit)
    {
        var depth = 0;
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var c = json[i];
            if (inString)
            {
                if (c == '\\') i++;
                else if (c == '"') inString = false;
            }
            else if (c == '"') inString = true;
            else if (c is '[' or '{' && ++depth > limit) return true;
            else if (c is ']' or '}') depth--;
        }
        return false;
    }

    /// <summary>Reads a saved <c>plan --format json</c>; a document of another shape is a <see cref="FormatException"/> naming where.</summary>
    public static PlacementSnapshot Parse(string json, string source)
    {
        JsonDocument document;
        try
        {
            // Nested software rings are bounded by NB0031 (100 levels, two JSON levels each).
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException ex)
        {
            // Where the JSON breaks, as a position the user can find; not the parser's own wording.
            var where = ex.LineNumber is { } line ? $" at line {line + 1}, column {(ex.BytePositionInLine ?? 0) + 1}" : "";
            if (NestedDeeperThan(json, MaxDepth))
            {
                throw new FormatException($"{source}: JSON nested deeper than {MaxDepth:N0} levels{where}: a baseline is the output of 'nicbypass plan --format json', which nests far less");
            }
            throw new FormatException($"{source}: not JSON{where}: a baseline is the output of 'nicbypass plan --format json'");
        }
        using (document)
        {
            var hosts = new List<Host>();
            foreach (var (host, h) in Array(document.RootElement, "hosts", source, "$").Select((e, i) => (e, i)))
            {
                var path = $"$.hosts[{h}]";
                var nics = new List<Nic>();
                foreach (var (nic, n) in Array(host, "nics", source, path).Select((e, i) => (e, i)))
                {
                    nics.Add(ReadNic(nic, source, $"{path}.nics[{n}]"));
                }
                var name = String(host, "name", source, path);
                if (hosts.Any(h => h.Name == name)) throw new FormatException($"{source}: {path} repeats host '{name}'");
                var repeatedNic = nics.GroupBy(n => n.Name).FirstOrDefault(g => g.Count() > 1);
                if (repeatedNic is not null) throw new FormatException($"{source}: {path} repeats NIC '{repeatedNic.Key}'");
                var repeatedVnic = nics.SelectMany(n => n.Vnics.Keys).GroupBy(v => v).FirstOrDefault(g => g.Count() > 1);
                if (repeatedVnic is not null) throw new FormatException($"{source}: {path} places VNIC '{repeatedVnic.Key}' twice");
                hosts.Add(new Host(name, nics));
            }
            return new PlacementSnapshot(hosts);
        }
    }

    private static Nic ReadNic(JsonElement nic, string source, string path)
    {
        var vnics = new Dictionary<string, Place>(StringComparer.Ordinal);
        var softwareRings = new Dictionary<string, int>(StringComparer.Ordinal);
        var rings = Array(nic, "hardwareRings", source, path);
        for (var r = 0; r < rings.Count; r++)
        {
            var ring = rings[r];
            var ringPath = $"{path}.hardwareRings[{r}]";
            var index = Int(ring, "index", source, ringPath);
            // A ring's index is its place: 0.., each once (a baseline with -5 or 0 twice printed
            // nonsense diffs, "hrr-5": found by a new user's drive).
            if (index < 0 || index >= rings.Count) throw new FormatException($"{source}: {ringPath}.index is {index}, not a ring of this NIC (0..{rings.Count - 1})");
            for (var earlier = 0; earlier < r; earlier++)
            {
                if (Int(rings[earlier], "index", source, $"{path}.hardwareRings[{earlier}]") == index) throw new FormatException($"{source}: {ringPath} repeats ring index {index}");
            }
            // Walk the nesting with an explicit stack: a baseline is input like any other.
            var pending = new Stack<(JsonElement Ring, string? SoftwareRing, string Path)>();
            pending.Push((ring, null, ringPath));
            while (pending.Count > 0)
            {
                var (current, owner, currentPath) = pending.Pop();
                var position = owner is null ? 0 : Int(current, "index", source, currentPath);
                // Exactly one of what a ring holds: a VNIC, a software ring, or `"idle": true`.
                var holds = (current.TryGetProperty("vnic", out _) ? 1 : 0) + (current.TryGetProperty("softwareRing", out _) ? 1 : 0)
                    + (current.TryGetProperty("idle", out var idle) ? 1 : 0);
                if (holds != 1) throw new FormatException($"{source}: {currentPath} holds {(holds == 0 ? "none" : "more than one")} of 'vnic', 'softwareRing' and 'idle'; a ring holds one");
                if (current.TryGetProperty("idle", out idle) && idle.ValueKind != JsonValueKind.True) throw new FormatException($"{source}: {currentPath}.idle is not true (an idle ring says \"idle\": true)");
                if (current.TryGetProperty("vnic", out _))
                {
                    var vnic = String(current, "vnic", source, currentPath);
                    if (!vnics.TryAdd(vnic, new Place(index, owner, position))) throw new FormatException($"{source}: {currentPath} places VNIC '{vnic}' twice");
                }
                else if (current.TryGetProperty("softwareRing", out var software))
                {
                    var softwarePath = currentPath + ".softwareRing";
                    var id = String(software, "id", source, softwarePath);
                    var members = Array(software, "rings", source, softwarePath);
                    softwareRings[id] = members.Count;
                    for (var m = members.Count - 1; m >= 0; m--) pending.Push((members[m], id, $"{softwarePath}.rings[{m}]"));
                }
            }
        }
        var classified = new HashSet<string>(StringComparer.Ordinal);
        if (nic.TryGetProperty("softwareClassified", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var name in list.EnumerateArray())
            {
                if (name.ValueKind != JsonValueKind.String) throw new FormatException($"{source}: {path}.softwareClassified holds a {name.ValueKind}, not a VNIC name");
                var vnic = name.GetString()!;
                if (!IsName(vnic)) throw new FormatException($"{source}: {path}.softwareClassified holds something that is not a name");
                classified.Add(vnic);
            }
        }
        int? defaultRing = nic.TryGetProperty("defaultRing", out _) ? Int(nic, "defaultRing", source, path) : null;
        return new Nic(String(nic, "name", source, path), String(nic, "model", source, path), rings.Count, defaultRing, vnics, softwareRings, classified);
    }

    private static List<JsonElement> Array(JsonElement element, string name, string source, string path)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"{source}: {path} has no array '{name}' (is it the output of 'nicbypass plan --format json'?)");
        }
        return value.EnumerateArray().ToList();
    }

    // Every string a plan holds is a name (a host, NIC, VNIC, model or software ring): a letter,
    // then letters, digits and '-', as the language allows — so nothing else from a baseline
    // file (escape sequences, megabytes of text) is ever printed back.
    private static string String(JsonElement element, string name, string source, string path)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String)
        {
            throw new FormatException($"{source}: {path} has no string '{name}'");
        }
        var text = value.GetString()!;
        if (!IsName(text)) throw new FormatException($"{source}: {path}.{name} is not a name (a letter, then letters, digits and '-', at most {Dsl.Binding.Identifiers.MaxNameLength})");
        return text;
    }

    // The language's own rule for names (Identifiers.IsValidName), and short enough to print back.
    // The language's own rule, its length limit included (the message said 256 and the limit was 255: found by a new user's drive).
    private static bool IsName(string text) => Dsl.Binding.Identifiers.IsValidName(text);

    private static int Int(JsonElement element, string name, string source, string path) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number)
            ? number
            : throw new FormatException($"{source}: {path} has no whole number '{name}'");
}
