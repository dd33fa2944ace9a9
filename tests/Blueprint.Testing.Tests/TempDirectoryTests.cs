namespace Blueprint.Testing.Tests;

/// <summary>The test infrastructure is code too: its own tests live here.</summary>
public sealed class TempDirectoryTests
{
    [Fact]
    public void A_temporary_directory_is_gone_after_dispose()
    {
        string path;
        using (var directory = new TempDirectory("testing-tests"))
        {
            path = directory.Path;
            File.WriteAllText(System.IO.Path.Combine(path, "f"), "x");
            Assert.True(Directory.Exists(path));
        }

        Assert.False(Directory.Exists(path));
    }
}
