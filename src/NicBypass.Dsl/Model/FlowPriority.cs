namespace NicBypass.Dsl.Model;

/// <summary>A flow's priority (flowadm's <c>priority</c>): low, medium (the default) or high.</summary>
public enum FlowPriority
{
    Low,
    Medium,
    High,
}
