namespace NicBypass.Runtime.Stacks;

/// <summary>The 128-bit secret a stack keys its SYN cookies with.</summary>
internal readonly record struct SynCookieKey(ulong K0, ulong K1);
