namespace Blueprint.Hosting;

/// <summary>The node's data directory: created and checked for writing before any module uses it.</summary>
public sealed class DataDirectory
{
    /// <summary>Creates the directory if needed and proves it is writable.</summary>
    /// <exception cref="StartupProblemException">The directory cannot be created or written.</exception>
    public DataDirectory(string path)
    {
        FullPath = Path.GetFullPath(path);
        try
        {
            Directory.CreateDirectory(FullPath);
            var probe = Path.Combine(FullPath, $".write-probe-{Environment.ProcessId}");
            File.WriteAllText(probe, "ok");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupProblemException(
                $"data directory {FullPath} is not writable ({e.Message}); choose another with --data-dir <path>", e);
        }
    }

    /// <summary>The absolute path.</summary>
    public string FullPath { get; }

    /// <summary>A module's own sub-directory, created on demand.</summary>
    public string For(string module)
    {
        var path = Path.Combine(FullPath, module);
        Directory.CreateDirectory(path);
        return path;
    }
}
