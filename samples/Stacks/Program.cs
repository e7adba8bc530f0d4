using System.Text;
using NicBypass.Runtime;
using NicBypass.Runtime.Devices;
using NicBypass.Runtime.Stacks;
using NicBypass.Samples;

// Services is generated at build time from services.nicdsl.
var clock = new VirtualClock();
var services = new Stacks.Services(clock);
SimulatedCable.Hairpin(services.E0.Device);
SampleTraffic.PrintPlacement(Stacks.Services.Placement, Console.Out);

// UDP: the VM asks the DNS service; the service answers from its socket.
var dns = services.Dns.Stack.BindUdp(53);
var resolver = services.Client.Stack.BindUdp();
resolver.TrySendTo(NetworkEndpoint.Parse("fd01::20", 53), Encoding.ASCII.GetBytes("A? web.local"));
var buffer = new byte[2048];
RunUntil(() => dns.Pending > 0);
dns.TryReceive(buffer, out var asker, out var length);
dns.TrySendTo(asker, Encoding.ASCII.GetBytes("web.local A 10.1.0.10"));
RunUntil(() => resolver.Pending > 0);
resolver.TryReceive(buffer, out _, out length);
Console.WriteLine($"dns: {Encoding.ASCII.GetString(buffer, 0, length)} (asked from {asker})");

// TCP: the VM fetches 2 MB from the web container, which may send only 50 Mbit/s.
var listener = services.Web.Stack.ListenTcp(80);
var connection = services.Client.Stack.ConnectTcp(NetworkEndpoint.Parse("10.1.0.10", 80));
TcpConnection? server = null;
RunUntil(() => listener.TryAccept(out server));
var body = new byte[2_000_000];
new Random(1).NextBytes(body);
var start = clock.Nanoseconds;
int sent = 0, received = 0;
RunUntil(() =>
{
    if (sent < body.Length) sent += server!.Send(body.AsSpan(sent));
    int n;
    while ((n = connection.Read(buffer)) > 0)
    {
        if (!body.AsSpan(received, n).SequenceEqual(buffer.AsSpan(0, n))) throw new InvalidOperationException("the byte stream arrived damaged");
        received += n;
    }
    return received == body.Length;
});
var seconds = (clock.Nanoseconds - start) / 1e9;
Console.WriteLine($"web: {received:N0} bytes in {seconds:0.###} s of virtual time = {received * 8 / seconds / 1e6:0.#} Mbit/s (outbound-bandwidth 50M), intact");
Console.WriteLine($"web's VNS: {services.Web.Counters.Received:N0} frames in, {services.Web.Counters.Sent:N0} out, policy {services.Web.Policy}, outbound VSQ high water {services.Web.OutboundHighWater}");
Console.WriteLine($"dns's VNS: policy {services.Dns.Policy}");

void RunUntil(Func<bool> done)
{
    if (!services.Host.RunUntil(done, TimeSpan.FromSeconds(60))) throw new TimeoutException("the exchange did not finish within 60 s of virtual time");
}
