using NicBypass.Experiments;

// Regenerates the plots of docs/experiments.md: each sweep runs the simulation in-process on a
// topology from docs/experiments/ and writes an SVG next to it (and prints its table).
var directory = args.Length > 0 ? args[0] : Path.Combine(Repository.Root(), "docs", "experiments");
Console.WriteLine(LivelockSweep.Run(directory));
Console.WriteLine(BypassSweep.Run(directory));
