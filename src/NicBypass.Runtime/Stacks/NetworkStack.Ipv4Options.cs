using System.Buffers.Binary;
using NicBypass.Runtime.Packets;

namespace NicBypass.Runtime.Stacks;

// IPv4 options (RFC 791 3.1) in a packet to this host: checked as Linux's ip_options_compile
// checks them, and Record Route and Timestamp answered in an echo reply as its ip_options_echo
// answers them (RFC 1122 3.2.2.6: "SHOULD be updated to include the current host and included in
// the IP header of the Echo Reply message").
public sealed partial class NetworkStack
{
    private const byte OptionEnd = 0, OptionNoOperation = 1, OptionRecordRoute = 7, OptionTimestamp = 68;
    private const byte TimestampsOnly = 0, TimestampsAndAddresses = 1, TimestampsPrespecified = 3;

    // The options walked: null, taken; else why not, and `fault`, the offset in the options of the
    // byte at fault (for a Parameter Problem; -1 for none). An option whose length runs past the
    // header or is below 2, a Record Route or Timestamp whose pointer is below its first slot or
    // points into a slot that does not fit, a Timestamp whose overflow count would pass 15, a second
    // Record Route or Timestamp: `malformed`, with a Parameter Problem pointing at the byte, as
    // Linux's (so is a source route shorter than 3 bytes, pointing below 4 or a second one, and a
    // router alert shorter than 4). A well-formed loose or strict source route (131, 137) is
    // `unsupported`, silently, once the rest are checked — RFC 7126 4.3 and 4.4, as Linux's
    // accept_source_route = 0 drops it after ip_options_compile. Other options are passed over.
    private static StackDropReason? OptionsRefused(ReadOnlySpan<byte> options, out int fault)
    {
        var at = 0;
        bool recordRoute = false, timestamp = false, sourceRoute = false;
        while (at < options.Length)
        {
            var type = options[at];
            if (type == OptionEnd) break;
            if (type == OptionNoOperation)
            {
                at++;
                continue;
            }
            fault = at;
            var length = options.Length - at < 2 ? 0 : options[at + 1];
            if (length < 2 || length > options.Length - at) return StackDropReason.Malformed;
            var option = options.Slice(at, length);
            switch (type)
            {
                case 131 or 137:
                    if (length < 3 || option[2] < 4)
                    {
                        fault = at + (length < 3 ? 1 : 2);
                        return StackDropReason.Malformed;
                    }
                    if (sourceRoute) return StackDropReason.Malformed;
                    sourceRoute = true;
                    break;
                case 148 when length < 4: // router alert
                    fault = at + 1;
                    return StackDropReason.Malformed;
                case OptionRecordRoute:
                    if (recordRoute) return StackDropReason.Malformed;
                    recordRoute = true;
                    if (length < 3)
                    {
                        fault = at + 1;
                        return StackDropReason.Malformed;
                    }
                    if (option[2] < 4 || option[2] <= length && option[2] + 3 > length)
                    {
                        fault = at + 2;
                        return StackDropReason.Malformed;
                    }
                    break;
                case OptionTimestamp:
                    if (timestamp) return StackDropReason.Malformed;
                    timestamp = true;
                    if (length < 4)
                    {
                        fault = at + 1;
                        return StackDropReason.Malformed;
                    }
                    var pointer = option[2];
                    var flag = option[3] & 0x0F;
                    if (pointer < 5 || pointer <= length && (pointer + 3 > length || flag is TimestampsAndAddresses or TimestampsPrespecified && pointer + 7 > length))
                    {
                        fault = at + 2;
                        return StackDropReason.Malformed;
                    }
                    if (pointer > length && flag != TimestampsPrespecified && option[3] >> 4 == 15)
                    {
                        fault = at + 3;
                        return StackDropReason.Malformed;
                    }
                    break;
            }
            at += length;
        }
        fault = -1;
        return sourceRoute ? StackDropReason.Unsupported : null;
    }

    // The options of an echo reply to a request with `options` to `local` (one of ours): its Record
    // Route with `local` recorded as the request came in and again as the reply goes out, where
    // there is room, and its Timestamp stamped likewise (with `local` too when it asks for addresses;
    // prespecified, only in the slots naming an address of ours); the two in that order, padded
    // with end-of-options to a multiple of 4, as Linux's ip_options_echo and ip_options_build
    // write them. Other options are not echoed. Returns their length, or -1 when Linux sends no
    // reply (a slot the request's option has room to point at but not to hold).
    private int EchoOptions(ReadOnlySpan<byte> options, Span<byte> reply, NetworkAddress local)
    {
        var written = 0;
        var now = (uint)(Time.GetUtcNow().ToUnixTimeMilliseconds() % 86_400_000); // milliseconds since midnight UT (RFC 791)
        var recordRoute = FindOption(options, OptionRecordRoute);
        if (!recordRoute.IsEmpty)
        {
            var echo = reply.Slice(written, recordRoute.Length);
            recordRoute.CopyTo(echo);
            for (var pass = 0; pass < 2; pass++)
            {
                // In, then out: a slot for each where the pointer still points inside the option.
                if (echo[2] > echo.Length) break;
                if (echo[2] + 3 > echo.Length) return -1;
                local.Write(echo.Slice(echo[2] - 1, 4));
                echo[2] += 4;
            }
            written += echo.Length;
        }
        var timestamp = FindOption(options, OptionTimestamp);
        if (!timestamp.IsEmpty)
        {
            var echo = reply.Slice(written, timestamp.Length);
            timestamp.CopyTo(echo);
            for (var pass = 0; pass < 2; pass++)
            {
                if (echo[2] > echo.Length)
                {
                    // Full: the request counts one more host that could not stamp it as it came in
                    // (checked below 15 by OptionsRefused); the reply going out is not counted.
                    if (pass == 0 && (echo[3] & 0x0F) != TimestampsPrespecified) echo[3] += 0x10;
                    break;
                }
                var slot = echo.Slice(echo[2] - 1);
                switch (echo[3] & 0x0F)
                {
                    case TimestampsOnly:
                        if (slot.Length < 4) return -1;
                        BinaryPrimitives.WriteUInt32BigEndian(slot, now);
                        echo[2] += 4;
                        break;
                    case TimestampsAndAddresses:
                        if (slot.Length < 8) return -1;
                        local.Write(slot.Slice(0, 4));
                        BinaryPrimitives.WriteUInt32BigEndian(slot.Slice(4), now);
                        echo[2] += 8;
                        break;
                    case TimestampsPrespecified:
                        // Only the host named in the next slot stamps it; the others leave the
                        // pointer (and a reply goes out stamped only if its request came in stamped).
                        if (slot.Length < 4) return -1;
                        if (slot.Length < 8 || !Owns(NetworkAddress.Read(slot.Slice(0, 4))))
                        {
                            pass = 2;
                            break;
                        }
                        BinaryPrimitives.WriteUInt32BigEndian(slot.Slice(4), now);
                        echo[2] += 8;
                        break;
                    default:
                        pass = 2; // a flag Linux does not know: copied as it came
                        break;
                }
            }
            written += echo.Length;
        }
        while ((written & 3) != 0) reply[written++] = OptionEnd;
        return written;
    }

    // The first option of `type` (checked by OptionsRefused), or empty.
    private static ReadOnlySpan<byte> FindOption(ReadOnlySpan<byte> options, byte type)
    {
        var at = 0;
        while (at < options.Length && options[at] != OptionEnd)
        {
            if (options[at] == OptionNoOperation)
            {
                at++;
                continue;
            }
            if (options[at] == type) return options.Slice(at, options[at + 1]);
            at += options[at + 1];
        }
        return default;
    }

    // An ICMP message that is an error (destination unreachable, source quench, redirect, time
    // exceeded, parameter problem), of a type no one knows, or too short to say: no error about
    // it (RFC 1122 3.2.2, as Linux's icmp_send). The reassembly's Time Exceeded asks too.
    internal static bool IsIcmpV4Error(ReadOnlySpan<byte> icmp) => icmp.IsEmpty || icmp[0] is 3 or 4 or 5 or 11 or 12 or > 18;

    private static bool IsIcmpError(in Ipv4Header ip) => ip.Protocol == IpProtocol.Icmp && IsIcmpV4Error(ip.Payload);

    // An ICMP Parameter Problem (RFC 792, type 12 code 0) about `packet`, pointing at its byte `pointer`.
    private void SendParameterProblemV4(ReadOnlySpan<byte> packet, NetworkAddress source, NetworkAddress destination, int pointer) =>
        SendIcmpError(packet, source, destination, 12, 0, (uint)pointer << 24, ref Counters._parameterProblems);
}
