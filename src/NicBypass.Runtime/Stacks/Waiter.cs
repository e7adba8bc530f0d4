namespace NicBypass.Runtime.Stacks;

/// <summary>
/// The one waiter of a socket, listener or connection (a <see cref="TaskCompletionSource"/> made
/// with <see cref="TaskCreationOptions.RunContinuationsAsynchronously"/>, so completing it under
/// the owner's lock runs nothing there): <see cref="Signal"/> takes it and completes it.
/// </summary>
internal static class Waiter
{
    public static void Signal(ref TaskCompletionSource? waiter)
    {
        var signal = waiter;
        waiter = null;
        signal?.TrySetResult();
    }
}
