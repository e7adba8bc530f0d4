using NicBypass.Runtime.Classification;

namespace NicBypass.Runtime.Devices;

/// <summary>What a driver advertises for the hardware classifier: fields, entries and the API that programs it.</summary>
public sealed record ClassifierInfo(ClassifierMatch Fields, int Entries, IClassifierProgramming Program);
