namespace NicBypass.Dsl.Binding;

/// <summary>The property table of the language (docs/dsl.md lists the same).</summary>
public static class PropertyRules
{
    public static IReadOnlyList<PropertyRule> All { get; } = new[]
    {
        new PropertyRule("cpus", BlockKind.Host, false, "cpus 8"),

        new PropertyRule("model", BlockKind.Nic, false, "model simnic-10g"),
        new PropertyRule("rx-rings", BlockKind.Nic, false, "rx-rings 4"),
        new PropertyRule("tx-rings", BlockKind.Nic, false, "tx-rings 2"),
        new PropertyRule("ring-size", BlockKind.Nic, false, "ring-size 1024"),
        new PropertyRule("speed", BlockKind.Nic, false, "speed 10G"),
        new PropertyRule("msi", BlockKind.Nic, false, "msi 4"),
        new PropertyRule("soft-ring-width", BlockKind.Nic, false, "soft-ring-width 64"),
        new PropertyRule("mtu", BlockKind.Nic, false, "mtu 1500"),
        new PropertyRule("interrupt-moderation", BlockKind.Nic, false, "interrupt-moderation 8us"),

        new PropertyRule("mac", BlockKind.AnyVnic, true, "mac 02:08:20:ac:00:01"),
        new PropertyRule("ip", BlockKind.AnyVnic, true, "ip 192.168.10.11/24"),
        new PropertyRule("multicast", BlockKind.AnyVnic, true, "multicast 224.0.0.251"),
        new PropertyRule("gateway", BlockKind.AnyVnic, true, "gateway 192.168.10.1"),
        new PropertyRule("vlan", BlockKind.AnyVnic, false, "vlan 10"),
        new PropertyRule("bandwidth", BlockKind.AnyVnic | BlockKind.Flow, false, "bandwidth 500M"),
        new PropertyRule("outbound-bandwidth", BlockKind.AnyVnic, false, "outbound-bandwidth 200M"),
        new PropertyRule("cpu", BlockKind.AnyVnic, false, "cpu 2"),
        new PropertyRule("ring", BlockKind.AnyVnic, false, "ring hardware"),
        new PropertyRule("transform", BlockKind.Vm, false, "transform reverse-bits"),
        new PropertyRule("protocols", BlockKind.Destination, false, "protocols tcp udp"),
        new PropertyRule("ports", BlockKind.Destination, false, "ports 80 443"),
        new PropertyRule("mode", BlockKind.Destination, false, "mode polling"),

        new PropertyRule("transport", BlockKind.Flow, false, "transport tcp"),
        new PropertyRule("local-port", BlockKind.Flow, false, "local-port 80"),
        new PropertyRule("remote-ip", BlockKind.Flow, false, "remote-ip 10.0.0.0/8"),
        new PropertyRule("remote-port", BlockKind.Flow, false, "remote-port 53"),
        new PropertyRule("priority", BlockKind.Flow, false, "priority high"),
    };

    /// <summary>The rule for <paramref name="name"/> in <paramref name="block"/>, or null.</summary>
    public static PropertyRule? Find(string name, BlockKind block) =>
        All.FirstOrDefault(r => r.Name == name && (r.Blocks & block) != 0);

    /// <summary>The property names valid in <paramref name="block"/>.</summary>
    public static IEnumerable<string> NamesFor(BlockKind block) => All.Where(r => (r.Blocks & block) != 0).Select(r => r.Name);
}
