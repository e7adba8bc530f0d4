namespace NicBypass.Experiments;

/// <summary>Finds the repository root (the directory holding NicBypass.sln) from the working directory up.</summary>
public static class Repository
{
    public static string Root()
    {
        for (var directory = new DirectoryInfo(Directory.GetCurrentDirectory()); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "NicBypass.sln"))) return directory.FullName;
        }
        throw new InvalidOperationException("run from inside the repository (no NicBypass.sln above the working directory), or pass the output directory");
    }
}
