namespace NicBypass.Runtime.Classification;

/// <summary>Thrown when a classifier is asked to hold more rules than it has entries.</summary>
public sealed class ClassifierFullException(string message) : InvalidOperationException(message);
