namespace NicBypass.Hosting;

/// <summary>One stage a traced frame passed and what was decided there.</summary>
public sealed record TraceStep(string Stage, string Decision)
{
    public override string ToString() => $"{Stage}: {Decision}";
}
