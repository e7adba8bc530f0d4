namespace NicBypass.Runtime.Virtualization;

/// <summary>
/// A VNS's serialization queues in a report (the <c>vsq</c> entry of README.md § A short tour): the most
/// packets the inbound VSQ held, how many times a backlog formed, how many times the ring switched
/// to polling, how many packets had to wait; beside them the outbound VSQ's high water, the frames
/// that waited in it, and the senders it blocked.
/// </summary>
public sealed record SerializationQueueReport(int InboundHighWater, long Backlogs, long PollingSwitches, long InboundQueued,
    int OutboundHighWater, long OutboundQueued, long BlockedSends);
