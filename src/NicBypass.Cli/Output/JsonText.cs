using System.Text;
using System.Text.Json;

namespace NicBypass.Cli.Output;

/// <summary>Writes one indented JSON document to a text writer.</summary>
internal static class JsonText
{
    public static void Write(TextWriter output, Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            write(json);
        }
        output.WriteLine(Encoding.UTF8.GetString(stream.ToArray()));
    }
}
