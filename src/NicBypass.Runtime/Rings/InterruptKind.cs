namespace NicBypass.Runtime.Rings;

/// <summary>An HRR raises a (simulated) hardware interrupt; an SRR a software interrupt.</summary>
public enum InterruptKind
{
    Hardware,
    Software,
}
