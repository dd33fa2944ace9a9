using Blueprint.Core.Hashing;

namespace Blueprint.Core.Tests.Hashing;

public sealed class StableHashTests
{
    [Fact]
    public void Hash64_EmptyInput_MatchesPublishedXxh3Vector()
    {
        // XXH3_64bits("") with seed 0, from the xxHash reference implementation.
        Assert.Equal(0x2D06800538D394C2UL, StableHash.Hash64(string.Empty));
    }

    [Theory]
    [InlineData("user:42", 11511735035886662826UL)]
    [InlineData("node-0#0", 9485842819641227110UL)]
    [InlineData("héllo wörld", 14581225737120344164UL)]
    public void Hash64_FixedKeys_MatchGoldenValues(string key, ulong expected)
    {
        // Golden values pin the hash across processes and releases: a changed function or encoding fails here.
        Assert.Equal(expected, StableHash.Hash64(key));
    }

    [Fact]
    public void Hash64_CharsAndUtf8Bytes_Agree()
    {
        Gen.String.Sample(s => StableHash.Hash64(s) == StableHash.Hash64(System.Text.Encoding.UTF8.GetBytes(s)), iter: 500);
    }

    [Fact]
    public void Hash64_LongKey_MatchesByteHash()
    {
        string key = new('x', 5000);
        Assert.Equal(StableHash.Hash64(System.Text.Encoding.UTF8.GetBytes(key)), StableHash.Hash64(key));
    }

    [Fact]
    public void Hash64_DifferentSeeds_GiveDifferentValues()
    {
        Assert.NotEqual(StableHash.Hash64("k", 1), StableHash.Hash64("k", 2));
    }
}
