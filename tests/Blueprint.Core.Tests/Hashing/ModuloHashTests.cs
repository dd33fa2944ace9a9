using Blueprint.Core.Hashing;

namespace Blueprint.Core.Tests.Hashing;

public sealed class ModuloHashTests
{
    [Fact]
    public void Bucket_GrowTenToEleven_MovesMostKeys()
    {
        int moved = 0;
        const int Keys = 20_000;
        for (int i = 0; i < Keys; i++)
        {
            ulong hash = StableHash.Hash64((ulong)i);
            moved += ModuloHash.Bucket(hash, 10) != ModuloHash.Bucket(hash, 11) ? 1 : 0;
        }

        // Theory: n/(n+1) = 10/11 of the keys move.
        Assert.InRange(moved / (double)Keys, 10 / 11.0 * 0.95, 10 / 11.0 * 1.05);
    }

    [Fact]
    public void Bucket_KnownHash_IsRemainder()
    {
        Assert.Equal(3, ModuloHash.Bucket(103, 10));
    }
}
