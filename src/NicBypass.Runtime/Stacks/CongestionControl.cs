namespace NicBypass.Runtime.Stacks;

/// <summary>How a TCP sender grows its congestion window past the slow-start threshold and how far it cuts it on a loss (Linux's <c>net.ipv4.tcp_congestion_control</c>).</summary>
public enum CongestionControl
{
    /// <summary>
    /// CUBIC (RFC 9438, Linux's default): on a loss the window falls to 0.7 of the flight, then
    /// grows along a cubic function of the time since — quickly back towards the window where the
    /// loss came, slowly around it, then faster again probing beyond — never slower than Reno
    /// would. On a long path (a large bandwidth-delay product) it refills the link in seconds
    /// where Reno's one segment a round trip takes minutes.
    /// </summary>
    Cubic,

    /// <summary>NewReno (RFC 5681, RFC 6582): the window halves on a loss and grows by one segment a round trip.</summary>
    Reno,
}
