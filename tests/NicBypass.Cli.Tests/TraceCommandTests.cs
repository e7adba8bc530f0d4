namespace NicBypass.Cli.Tests;

public class TraceCommandTests
{
    private const string Topology = """
        host t {
            nic e0 { model simnic-1g; rx-rings 2; soft-ring-width 2 }
            vm a on e0 { mac 02:00:00:00:00:01; ip 10.0.0.1; ring hardware; transform reverse-bits }
            vm b on e0 { mac 02:00:00:00:00:02; ip 10.0.0.2 }
            container c on e0 { mac 02:00:00:00:00:03; ip 10.0.0.3; protocols udp; ports 53 }
        }
        """;

    // An ICMP echo request 10.0.0.9 → 10.0.0.1 (checksums right), to a's MAC.
    private const string PingA = "020000000001 02aa00000009 0800 4500002400010000400166cf0a0000090a000001 0800ebe7000700010001020304050607";

    [Fact]
    public void A_ping_is_followed_from_the_classifier_to_the_vm_and_its_reply_to_the_wire()
    {
        var (exit, output, error) = CliRunner.Run("trace", CliRunner.TempFile(Topology), "--frame", PingA);

        Assert.True(exit == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()).ToList();
        Assert.Equal("trace of one frame into e0 of host t", lines[0]);
        Assert.StartsWith("frame: 50 bytes, 02:aa:00:00:00:09 → 02:00:00:00:00:01, untagged, EtherType 0x0800 (IPv4 10.0.0.9 → 10.0.0.1, ICMP echo request)", lines[1]);
        Assert.Equal("e0 hardware classifier (matches MAC): destination 02:00:00:00:00:01 → hrr0 (VNIC a)", lines[2]);
        Assert.StartsWith("e0 hrr0: queued; hardware interrupt on cpu", lines[3]);
        Assert.Equal("VNIC a: received; delivered 50 bytes", lines[4]);
        Assert.Equal("interface a: reverse-bits: each byte's bit order flipped into VM memory", lines[5]);
        Assert.Equal("VM a guest stack: answered with an echo reply", lines[6]);
        Assert.Contains("e0 wire: out: 50 bytes, 02:00:00:00:00:01 → 02:aa:00:00:00:09", lines[7]);
        Assert.Contains("ICMP echo reply", lines[7]);
    }

    [Fact]
    public void What_the_host_sends_of_its_own_as_it_starts_is_not_shown_as_the_frames_doing()
    {
        // d leases its address (`ip dhcp`): it sends a DISCOVER and a duplicate address detection
        // as the host starts. The trace of a ping to a shows a's reply going out, and nothing else.
        var topology = Topology.Replace("    vm b on e0", "    vm d on e0 { mac 02:00:00:00:00:04; ip dhcp }\n    vm b on e0");
        var (exit, output, error) = CliRunner.Run("trace", CliRunner.TempFile(topology), "--frame", PingA);

        Assert.True(exit == 0, error);
        var outgoing = output.Split('\n').Where(l => l.Contains("wire: out")).ToList();
        Assert.Contains("ICMP echo reply", Assert.Single(outgoing));
    }

    [Fact]
    public void A_frame_behind_a_software_ring_shows_every_classification_and_what_the_vns_decided()
    {
        // UDP 10.0.0.9:40000 → 10.0.0.3:9999 (undeclared port), checksum zero (none), to c's MAC.
        var udp = "020000000003 02aa00000009 0800 4500002000010000401166c10a0000090a000003 9c40270f000c0000 01020304";

        var (exit, output, _) = CliRunner.Run("trace", CliRunner.TempFile(Topology), "--frame", udp);

        Assert.Equal(0, exit);
        Assert.Contains("e0 hardware classifier (matches MAC): destination 02:00:00:00:00:03 → hrr1 (software ring sr0)", output);
        Assert.Contains("e0 software ring sr0 (software classifier): destination 02:00:00:00:00:03 →", output);
        Assert.Contains("software interrupt on cpu", output);
        // simnic-1g matches MACs only: c checks its VLAN, IP and ports in software, and 9999 is not one of its ports.
        Assert.Contains("VNIC c: received; not delivered; dropped (no-match) — the frame's port is not one of its own; checked in software (the hardware classifier cannot match it)", output);
        Assert.DoesNotContain("VNS c", output);
    }

    // UDP 10.0.0.9:40000 → 10.0.0.3:53 (declared), checksum zero (none), to c's MAC.
    private const string UdpTo53 = "020000000003 02aa00000009 0800 4500002000010000401166c10a0000090a000003 9c400035000c0000 01020304";

    [Fact]
    public void A_datagram_to_a_declared_port_reaches_the_echo_service_a_running_host_serves_there()
    {
        var (exit, output, _) = CliRunner.Run("trace", CliRunner.TempFile(Topology), "--frame", UdpTo53);

        Assert.Equal(0, exit);
        Assert.Contains("VNS c (concurrent: UDP only, threads in parallel): delivered to a socket or connection", output);
        Assert.Contains("e0 wire: out: 46 bytes, 02:00:00:00:00:03 → 02:aa:00:00:00:09, untagged, EtherType 0x0800 (IPv4 10.0.0.3 → 10.0.0.9, UDP 53 → 40000)", output);
        Assert.DoesNotContain("unreachable", output);
    }

    [Fact]
    public void A_datagram_to_an_undeclared_port_is_refused_by_the_vnics_software_check()
    {
        var (exit, output, _) = CliRunner.Run("trace", CliRunner.TempFile(Topology), "--frame", UdpTo53.Replace("9c400035000c0000", "9c400036000c0000"));

        Assert.Equal(0, exit);
        Assert.Contains("VNIC c: received; not delivered; dropped (no-match) — the frame's port is not one of its own", output);
        Assert.DoesNotContain("wire: out", output);
    }

    [Fact]
    public void An_ipv4_datagram_with_a_record_route_at_fault_is_traced_to_an_icmp_parameter_problem()
    {
        var topology = CliRunner.TempFile("host t {\n    nic e0 { model simnic-1g; rx-rings 1 }\n    container c on e0 { mac 02:00:00:00:00:03; ip 10.0.0.3/24; protocols udp; ports 53 }\n}\n");
        var plain = NicBypass.Runtime.Packets.Frames.Udp("02:aa:00:00:00:09", "02:00:00:00:00:03", "10.0.0.9:40000", "10.0.0.3:53", new byte[8]);
        // A record route (7) whose pointer, 3, is below its first slot: a Parameter Problem at byte 22.
        var frame = NicBypass.Runtime.Packets.Frames.WithIpv4Options(plain, [7, 7, 3, 0, 0, 0, 0, 0]);

        var (exit, output, error) = CliRunner.Run("trace", topology, "--frame", Convert.ToHexString(frame));

        Assert.True(exit == 0, error);
        Assert.Contains("answered with an ICMP parameter problem", output);
        Assert.DoesNotContain("ICMPv6", output);
        Assert.Contains("dropped (malformed)", output);
    }

    [Fact]
    public void An_ipv6_datagram_with_an_unknown_option_is_traced_to_its_parameter_problem()
    {
        var topology = CliRunner.TempFile("host t {\n    nic e0 { model simnic-1g; rx-rings 1 }\n    container c on e0 { mac 02:00:00:00:00:03; ip fd00::3; protocols udp; ports 53 }\n}\n");
        var plain = NicBypass.Runtime.Packets.Frames.Udp("02:aa:00:00:00:09", "02:00:00:00:00:03", "[fd00::9]:40000", "[fd00::3]:53", new byte[8]);
        // A destination-options header with option type 0xBE: unknown, "discard and send a Parameter Problem".
        var frame = new byte[plain.Length + 8];
        plain.AsSpan(0, 54).CopyTo(frame);
        frame[54] = 17;   // next header: UDP
        frame[56] = 0xBE; // the option, covering the header's six bytes
        frame[57] = 4;
        plain.AsSpan(54).CopyTo(frame.AsSpan(62));
        frame[20] = 60;   // destination options
        frame[19] += 8;   // payload length

        var (exit, output, error) = CliRunner.Run("trace", topology, "--frame", Convert.ToHexString(frame));

        Assert.True(exit == 0, error);
        // The sender's MAC is not learned from a packet the stack discards: the answer waits for
        // neighbour discovery, and the trace says so (it named an answer the wire never showed:
        // found by a new user's drive).
        Assert.Contains("VNS c (concurrent: UDP only, threads in parallel): answered with an ICMPv6 parameter problem (which waits for the sender's link-layer address: the solicitation below goes first); dropped (unsupported)", output);
        Assert.Contains("(IPv6 fd00::9 → fd00::3, destination options header)", output);
        Assert.Contains("ff02::1:ff00:9, neighbour solicitation)", output);
    }

    [Fact]
    public void A_frame_is_taken_from_a_capture_by_its_number_counting_from_one()
    {
        var capture = Path.Combine(Path.GetDirectoryName(CliRunner.TempFile(""))!, "two.pcap");
        using (var writer = new NicBypass.Runtime.Packets.PcapWriter(File.Create(capture)))
        {
            writer.Write(0, Convert.FromHexString(PingA.Replace(" ", "")));
            writer.Write(1000, Convert.FromHexString(UdpTo53.Replace(" ", "")));
        }
        var topology = CliRunner.TempFile(Topology);

        var (exit, output, error) = CliRunner.Run("trace", topology, "--capture", capture, "--frame-number", "2");
        Assert.True(exit == 0, error);
        Assert.Contains("(IPv4 10.0.0.9 → 10.0.0.3, UDP 40000 → 53)", output);
        Assert.Equal(output, CliRunner.Run("trace", topology, "--frame", UdpTo53).Output);

        (exit, _, error) = CliRunner.Run("trace", topology, "--capture", capture, "--frame-number", "3");
        Assert.Equal(1, exit);
        Assert.Contains("two.pcap: error: no frame 3: the capture holds 2", error);

        (exit, _, error) = CliRunner.Run("trace", topology, "--capture", capture);
        Assert.Equal(1, exit);
        Assert.Contains("--capture needs --frame-number N, counting from 1", error);

        (exit, _, error) = CliRunner.Run("trace", topology, "--capture", capture, "--frame", PingA);
        Assert.Equal(1, exit);
        Assert.Contains("give the frame with --frame HEX or --capture FILE --frame-number N (one of them)", error);

        (exit, _, error) = CliRunner.Run("trace", topology, "--capture", capture + ".missing", "--frame-number", "1");
        Assert.Equal(2, exit); // a capture that cannot be read, as replay says it (it said 1)
        Assert.Contains("two.pcap.missing: error: cannot read the capture:", error);

        File.WriteAllBytes(capture, [0xd4, 0xc3, 0xb2, 0xa1, 0x02]);
        (exit, _, error) = CliRunner.Run("trace", topology, "--capture", capture, "--frame-number", "1");
        Assert.Equal(2, exit);
        Assert.Contains("two.pcap: error:", error);
    }

    [Fact]
    public void A_tcp_segment_to_a_declared_port_of_a_udp_only_container_is_blamed_on_its_transport()
    {
        // Port 53 is declared; TCP is what c does not serve (the trace blamed the port: found by a new user's drive).
        var frame = NicBypass.Runtime.Packets.Frames.Tcp("02:aa:00:00:00:09", "02:00:00:00:00:03", "10.0.0.9:40000", "10.0.0.3:53", NicBypass.Runtime.Packets.TcpSegmentFlags.Syn);

        var (exit, output, _) = CliRunner.Run("trace", CliRunner.TempFile(Topology), "--frame", Convert.ToHexString(frame));

        Assert.Equal(0, exit);
        Assert.Contains("VNIC c: received; not delivered; dropped (no-match) — the frame is TCP, a transport it does not serve (it serves udp)", output);
    }

    [Fact]
    public void A_tag_inside_a_priority_tag_is_blamed_on_the_second_tag_not_the_vlan()
    {
        // Outer tag VID 0 (priority-tagged, which c takes) and a second tag inside it: QinQ is no
        // VNIC's (the trace said "the frame's VLAN is not one of its own": found by a new user's drive).
        var udp = Convert.FromHexString(UdpTo53.Replace(" ", ""));
        var frame = new byte[udp.Length + 8];
        udp.AsSpan(0, 12).CopyTo(frame);
        Convert.FromHexString("81000000" + "81000000").CopyTo(frame, 12);
        udp.AsSpan(12).CopyTo(frame.AsSpan(20));

        var (exit, output, _) = CliRunner.Run("trace", CliRunner.TempFile(Topology), "--frame", Convert.ToHexString(frame));

        Assert.Equal(0, exit);
        Assert.Contains("the frame carries a second VLAN tag inside the first (802.1ad QinQ), which belongs to no VNIC", output);
    }

    [Fact]
    public void An_ipv6_frame_is_described_through_its_extension_headers()
    {
        // Hop-by-hop options, then UDP to port 99: the frame line said "protocol 0", so the port
        // the drop names could not be read off the trace (found by a new user's drive).
        var topology = CliRunner.TempFile("host t {\n    nic e0 { model simnic-1g; rx-rings 1 }\n    container c on e0 { mac 02:00:00:00:00:03; ip fd00::3; protocols udp; ports 53 }\n}\n");
        var plain = NicBypass.Runtime.Packets.Frames.Udp("02:aa:00:00:00:09", "02:00:00:00:00:03", "[fd00::9]:40000", "[fd00::3]:99", new byte[8]);
        var frame = new byte[plain.Length + 8];
        plain.AsSpan(0, 54).CopyTo(frame);
        frame[54] = 17; // next header: UDP; the rest of the hop-by-hop header is PadN
        frame[56] = 1;
        frame[57] = 4;
        plain.AsSpan(54).CopyTo(frame.AsSpan(62));
        frame[20] = 0;  // hop-by-hop options
        frame[19] += 8; // payload length

        var (exit, output, error) = CliRunner.Run("trace", topology, "--frame", Convert.ToHexString(frame));

        Assert.True(exit == 0, error);
        Assert.Contains("(IPv6 fd00::9 → fd00::3, UDP 40000 → 99 behind extension headers)", output);
        Assert.Contains("the frame's port is not one of its own", output);
    }

    [Fact]
    public void A_frame_to_a_containers_mac_and_ip_but_an_undeclared_port_names_the_port_alone()
    {
        // simnic-100g matches MAC, IP, VLAN and port: the trace said "destination IP, VLAN, port"
        // when only the port was wrong (found by a new user's drive).
        var topology = "host g {\n  nic e0 { model simnic-100g; rx-rings 2 }\n  container me on e0 { mac 00:24:7e:e0:1d:b5; ip 141.142.220.118/24; protocols udp; ports 53 }\n}\n";
        var frame = "00247ee01db5029900000001080045000021000100004011a6558d8edce28d8edc7600890089000de67968656c6c6f";

        var (exit, output, _) = CliRunner.Run("trace", CliRunner.TempFile(topology), "--frame", frame);

        Assert.Equal(0, exit);
        Assert.Contains("e0: dropped (no-match) — destination 00:24:7e:e0:1d:b5 is VNIC me's, but the frame's port does not match its rule", output);
    }

    [Fact]
    public void On_a_host_with_two_nics_trace_says_which_nic_the_frame_enters()
    {
        var topology = "host h {\n  nic e0 { model simnic-1g; rx-rings 1 }\n  nic e1 { model simnic-1g; rx-rings 1 }\n  vm a on e0 { mac 02:00:00:00:00:01 }\n  vm b on e1 { mac 02:00:00:00:00:02 }\n}\n";
        var frame = "020000000002 02aa00000009 88b5 0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";

        var (exit, _, error) = CliRunner.Run("trace", CliRunner.TempFile(topology), "--frame", frame);
        Assert.Equal(0, exit);
        Assert.Contains("note: host 'h' has 2 NICs (e0, e1); the frame enters 'e0' (choose with --nic)", error);

        (_, _, error) = CliRunner.Run("trace", CliRunner.TempFile(topology), "--frame", frame, "--nic", "e1");
        Assert.DoesNotContain("note:", error);
    }

    [Fact]
    public void A_broadcast_of_another_vlan_is_blamed_on_its_vlan_not_its_port()
    {
        // Both checks fail; the VNIC's own (VLAN) runs first, and trace said "port" (found by review).
        var topology = "host h { cpus 4\n  nic n0 { model simnic-1g; rx-rings 2 }\n  container web on n0 { mac 02:00:00:00:00:10; ip 10.0.0.20/24; vlan 10; protocols udp; ports 53 } }\n";
        var frame = "ffffffffffff0200000000998100001408004500003000010000401170b40a000009ffffffff00890089001c00007878787878787878787878787878787878787878";

        var (exit, output, _) = CliRunner.Run("trace", CliRunner.TempFile(topology), "--frame", frame);

        Assert.Equal(0, exit);
        Assert.Contains("VNIC web: received; not delivered; dropped (no-match) — the frame's VLAN is not one of its own", output);
    }

    [Fact]
    public void A_frame_to_a_vnics_mac_but_another_ip_is_dropped_by_a_classifier_that_matches_ips()
    {
        // The ping to a, addressed to 10.0.0.77 instead of 10.0.0.1, on simnic-10g (matches MAC + IP).
        var ping = "020000000001 02aa00000009 0800 4500002400010000400166830a0000090a00004d 0800ebe7000700010001020304050607";

        var (exit, output, _) = CliRunner.Run("trace", CliRunner.TempFile(Topology.Replace("simnic-1g", "simnic-10g")), "--frame", ping);

        Assert.Equal(0, exit);
        Assert.Contains("e0: dropped (no-match) — destination 02:00:00:00:00:01 is VNIC a's, but the frame's destination IP does not match its rule", output);
        Assert.DoesNotContain("VNIC a:", output);
    }

    [Fact]
    public void A_frame_nobody_owns_is_dropped_at_the_nic_with_the_reason()
    {
        var (exit, output, _) = CliRunner.Run("trace", CliRunner.TempFile(Topology), "--frame", "0200000000ff02aa0000000988b5" + new string('0', 92));

        Assert.Equal(0, exit);
        Assert.Contains("e0: dropped (no-match) — no classifier rule for destination 02:00:00:00:00:ff", output);
        Assert.DoesNotContain("VNIC", output);
    }

    [Theory]
    [InlineData("zz", "--frame: 'z' is not a hexadecimal digit")]
    [InlineData("abc", "an odd number of hexadecimal digits")]
    [InlineData("", "the frame is empty")]
    public void Bad_frames_are_clear_errors(string frame, string message)
    {
        var (exit, _, error) = CliRunner.Run("trace", CliRunner.TempFile(Topology), "--frame", frame);

        Assert.Equal(1, exit);
        Assert.Contains(message, error);
    }

    [Fact]
    public void An_unknown_nic_names_the_ones_there_are()
    {
        var (exit, _, error) = CliRunner.Run("trace", CliRunner.TempFile(Topology), "--frame", PingA, "--nic", "e9");

        Assert.Equal(1, exit);
        Assert.Contains("host 't' has no NIC named 'e9'; it has e0", error);
    }
}
