using System.Text;
using System.Text.Json;
using NicBypass.Dsl;
using NicBypass.Dsl.Planning;

namespace NicBypass.Cli.Output;

/// <summary>
/// <c>plan --format json</c>. The field names are a contract (README.md § A short tour): hosts → nics →
/// hardwareRings, each ring with <c>vnic</c> or a nested <c>softwareRing</c>. Extensions only
/// add fields: <c>driver</c>, <c>id</c> of a software ring, <c>idle</c> for a ring that serves nothing.
/// </summary>
public static class PlanJsonWriter
{
    public static void Write(DslCompilation compilation, TextWriter output)
    {
        JsonText.Write(output, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("hosts");
            foreach (var (definition, host) in compilation.Hosts)
            {
                json.WriteStartObject();
                json.WriteString("name", host.Name);
                json.WriteStartArray("nics");
                foreach (var nic in host.Nics)
                {
                    json.WriteStartObject();
                    json.WriteString("name", nic.Name);
                    json.WriteString("model", nic.Model.Name);
                    json.WriteString("driver", nic.Model.Driver);
                    json.WritePropertyName("hardwareRings");
                    WriteRings(json, nic.HardwareRings);
                    if (nic.DefaultRing is { } defaultRing)
                    {
                        // Extension (docs/architecture.md § Classification as advertised): the classifier's fallback, present only when it is in use.
                        json.WriteNumber("defaultRing", defaultRing);
                        json.WriteStartArray("softwareClassified");
                        foreach (var vnic in nic.SoftwareClassified) json.WriteStringValue(vnic);
                        json.WriteEndArray();
                    }
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                if (definition.Flows.Count > 0)
                {
                    // Extension (docs/architecture.md § Classification as advertised): the host's flows, when it declares any.
                    json.WriteStartArray("flows");
                    foreach (var flow in definition.Flows)
                    {
                        json.WriteStartObject();
                        json.WriteString("name", flow.Name);
                        json.WriteString("vnic", flow.Vnic);
                        if (flow.Transport != Dsl.Model.TransportProtocols.None) json.WriteString("transport", flow.Transport == Dsl.Model.TransportProtocols.Tcp ? "tcp" : "udp");
                        if (flow.LocalPort is { } local) json.WriteNumber("localPort", local);
                        if (flow.RemoteIp is { } remote) json.WriteString("remoteIp", remote.ToString());
                        if (flow.RemotePort is { } port) json.WriteNumber("remotePort", port);
                        if (flow.Bandwidth is { } bandwidth) json.WriteNumber("bandwidth", bandwidth.BitsPerSecond);
                        json.WriteString("priority", flow.Priority.ToString().ToLowerInvariant());
                        json.WriteEndObject();
                    }
                    json.WriteEndArray();
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    private static void WriteRings(Utf8JsonWriter json, EquatableArray<RingBinding> rings)
    {
        json.WriteStartArray();
        foreach (var ring in rings)
        {
            json.WriteStartObject();
            json.WriteNumber("index", ring.Index);
            if (ring.Vnic is { } vnic)
            {
                json.WriteString("vnic", vnic);
            }
            else if (ring.SoftwareRing is { } software)
            {
                json.WriteStartObject("softwareRing");
                json.WriteString("id", software.Id);
                json.WritePropertyName("rings");
                WriteRings(json, software.Rings);
                json.WriteEndObject();
            }
            else
            {
                json.WriteBoolean("idle", true);
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }
}
