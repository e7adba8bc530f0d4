namespace NicBypass.Runtime.Rings;

/// <summary>An HRR raises a (simulated) hardware interrupt; an SRR a software interrupt.</summary>
internal enum InterruptKind
{
    Hardware,
    Software,
}
