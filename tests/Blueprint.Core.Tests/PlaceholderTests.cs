namespace Blueprint.Core.Tests;

public sealed class PlaceholderTests
{
    [Xunit.Fact]
    public void Build_Runs() => Xunit.Assert.Equal(4, 2 + 2);
}
