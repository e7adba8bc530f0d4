using BenchmarkDotNet.Attributes;
using NicBypass.Runtime.Packets;

namespace NicBypass.Benchmarks;

/// <summary>
/// A TCP segment's payload (1,448 bytes, a full segment at a 1,500-byte MTU with timestamps) put
/// into its frame: copied and then summed for the checksum (baseline, two passes), against copied
/// and summed in one pass (<c>InternetChecksum.CopyAndAdd</c>, what a sender does now).
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class ChecksumBenchmarks
{
    private readonly byte[] _payload = new byte[1448];
    private readonly byte[] _frame = new byte[1514];

    [GlobalSetup]
    public void Setup() => new Random(1).NextBytes(_payload);

    [Benchmark(Description = "copy only (memmove): 1,448 bytes")]
    public void Copy() => _payload.CopyTo(_frame.AsSpan(66));

    [Benchmark(Description = "checksum only: 1,448 bytes")]
    public uint Sum() => InternetChecksum.Add(0, _payload);

    [Benchmark(Baseline = true, Description = "copy, then checksum: 1,448 bytes")]
    public uint CopyThenSum()
    {
        var into = _frame.AsSpan(66, _payload.Length);
        _payload.CopyTo(into);
        return InternetChecksum.Add(0, into);
    }

    [Benchmark(Description = "copy and checksum in one pass: 1,448 bytes")]
    public uint CopyAndSum() => InternetChecksum.CopyAndAdd(0, _payload, _frame.AsSpan(66));
}
