namespace Blueprint.Lab.Processes;

/// <summary>A fresh directory under the system temp folder for one program's data, deleted on dispose.</summary>
internal sealed class ScratchDirectory : IDisposable
{
    /// <summary>Creates the directory.</summary>
    public ScratchDirectory(string prefix)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        _ = Directory.CreateDirectory(Path);
    }

    /// <summary>Gets the absolute path.</summary>
    public string Path { get; }

    /// <summary>The bytes of the files under <paramref name="directory"/> whose names end in <paramref name="suffix"/>.</summary>
    public static long FileBytes(string directory, string suffix) =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, "*" + suffix, SearchOption.AllDirectories).Sum(file => new FileInfo(file).Length)
            : 0;

    /// <summary>Creates (or finds) the subdirectory <paramref name="name"/> and returns its path.</summary>
    public string Subdirectory(string name) => Directory.CreateDirectory(System.IO.Path.Combine(Path, name)).FullName;

    /// <summary>Deletes the directory; a file still held leaves it to the OS's temp cleaner.</summary>
    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
