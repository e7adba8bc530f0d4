namespace NicBypass.Runtime.Stacks;

/// <summary>What became of a frame handed to a stack's output.</summary>
public enum SendStatus
{
    /// <summary>On a transmit ring, on its way to the wire.</summary>
    Sent,

    /// <summary>Accepted and waiting (in the outbound VSQ for bandwidth or a full transmit ring, or for the neighbour's MAC); it will go out.</summary>
    Queued,

    /// <summary>Not accepted: the outbound VSQ is full. The sender keeps it and waits for <see cref="IStackOutput.WhenWritable"/>.</summary>
    Blocked,

    /// <summary>Refused and counted: spoofed source, too long, or no room to wait for the neighbour.</summary>
    Dropped,
}
