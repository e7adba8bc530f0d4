namespace NicBypass.Runtime.Stacks;

/// <summary>
/// Port → socket (or listener) for the receive path: readers look up an immutable snapshot with
/// no lock and no atomic; binding and closing (rare) publish a new snapshot under a lock.
/// </summary>
internal sealed class PortTable<T>
    where T : class
{
    private readonly Lock _write = new();
    private Dictionary<ushort, T> _snapshot = new();

    public bool TryGetValue(ushort port, out T value) => Volatile.Read(ref _snapshot).TryGetValue(port, out value!);

    public bool ContainsKey(ushort port) => Volatile.Read(ref _snapshot).ContainsKey(port);

    /// <summary>Every socket bound now (a snapshot).</summary>
    public IReadOnlyCollection<T> Values => Volatile.Read(ref _snapshot).Values;

    public bool TryAdd(ushort port, T value)
    {
        lock (_write)
        {
            if (_snapshot.ContainsKey(port)) return false;
            Volatile.Write(ref _snapshot, new Dictionary<ushort, T>(_snapshot) { [port] = value });
            return true;
        }
    }

    public bool TryRemove(ushort port, T value)
    {
        lock (_write)
        {
            if (!_snapshot.TryGetValue(port, out var current) || !ReferenceEquals(current, value)) return false;
            var next = new Dictionary<ushort, T>(_snapshot);
            next.Remove(port);
            Volatile.Write(ref _snapshot, next);
            return true;
        }
    }
}
