namespace NicBypass.Dsl.Lowering;

/// <summary>Check that what NIC <paramref name="Nic"/>'s driver advertised can carry the plan; fail with a clear message if not.</summary>
/// <param name="Fields">The runtime's <c>ClassifierMatch</c> member names the plan's hardware classifier program uses.</param>
public sealed record CheckHardwareStep(string Nic, int ReceiveRings, int TransmitRings, int ClassifierEntries, EquatableArray<string> Fields) : HostBuildStep
{
    public override string Describe() =>
        $"the driver must advertise {Count(ReceiveRings, "receive ring")}, {Count(TransmitRings, "transmit ring")} and {Count(ClassifierEntries, "classifier entry", "classifier entries")} matching {string.Join(" + ", Fields)}";

    private static string Count(int n, string one, string? many = null) => n == 1 ? $"1 {one}" : $"{n} {many ?? one + "s"}";
}
