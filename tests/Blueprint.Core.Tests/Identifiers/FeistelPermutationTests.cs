using System.Text;
using Blueprint.Core.Identifiers;

namespace Blueprint.Core.Tests.Identifiers;

public sealed class FeistelPermutationTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes("a test key of sixteen bytes or more");

    [Theory]
    [InlineData(2UL)]
    [InlineData(1000UL)]
    [InlineData(62UL * 62 * 62)]
    public void Permute_SmallDomain_IsABijectionAndInvertUndoesIt(ulong domain)
    {
        var permutation = new FeistelPermutation(domain, Key);
        var seen = new bool[domain];
        for (ulong value = 0; value < domain; value++)
        {
            var image = permutation.Permute(value);
            Assert.InRange(image, 0UL, domain - 1);
            Assert.False(seen[image], $"two values map to {image}");
            seen[image] = true;
            Assert.Equal(value, permutation.Invert(image));
        }
    }

    [Fact]
    public void Permute_SevenCharacterDomain_RoundTripsAtRandom()
    {
        var permutation = new FeistelPermutation(Base62.Capacity(7), Key);
        CsCheck.Gen.ULong[0, Base62.Capacity(7) - 1].Sample(value => permutation.Invert(permutation.Permute(value)) == value);
    }

    [Fact]
    public void Permute_SequentialIds_GiveScatteredCodes()
    {
        var permutation = new FeistelPermutation(Base62.Capacity(7), Key);
        var images = Enumerable.Range(0, 1000).Select(i => permutation.Permute((ulong)i)).ToArray();

        // Neighbouring IDs land far apart: the mean gap is a sizeable fraction of the domain, not ~1.
        var meanGap = images.Zip(images.Skip(1), (a, b) => Math.Abs((double)a - b)).Average();
        Assert.True(meanGap > Base62.Capacity(7) / 10.0, $"mean gap {meanGap}");
        Assert.Equal(images.Length, images.Distinct().Count());
    }

    [Fact]
    public void Permute_DifferentKeys_GiveDifferentPermutations()
    {
        var first = new FeistelPermutation(Base62.Capacity(7), Key);
        var second = new FeistelPermutation(Base62.Capacity(7), Encoding.UTF8.GetBytes("another key of sixteen bytes!!"));
        var same = Enumerable.Range(0, 100).Count(i => first.Permute((ulong)i) == second.Permute((ulong)i));
        Assert.True(same < 3, $"{same} of 100 images agree");
    }

    [Fact]
    public void Constructor_ShortKeyOrBadDomain_IsRejected()
    {
        Assert.Throws<ArgumentException>(() => new FeistelPermutation(100, new byte[8]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FeistelPermutation(1, Key));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FeistelPermutation(100, Key).Permute(100));
    }
}
