using System.Text;
using Blueprint.Core.Hashing;

namespace Blueprint.Core.Tests.Hashing;

public sealed class Murmur2Tests
{
    // Values from Kafka's own client (Utils.murmur2), as its test and other clients' tests list them.
    [Theory]
    [InlineData("21", -973932308)]
    [InlineData("foobar", -790332482)]
    [InlineData("a-little-bit-long-string", -985981536)]
    [InlineData("a-little-bit-longer-string", -1486304829)]
    [InlineData("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971)]
    [InlineData("abc", 479470107)]
    [InlineData("1", -1993445489)]
    [InlineData("12", 126087238)]
    [InlineData("123", -267702483)]
    [InlineData("1234", -1614185708)]
    [InlineData("12345", -1188365604)]
    public void Hash_agrees_with_kafkas_java_client(string key, int expected) =>
        Assert.Equal(expected, Murmur2.Hash(Encoding.UTF8.GetBytes(key)));

    [Fact]
    public void Partition_masks_the_sign_bit_before_the_modulo()
    {
        // murmur2("foobar") is negative: Kafka masks it to positive, never takes Math.abs.
        var expected = (-790332482 & 0x7fffffff) % 7;
        Assert.Equal(expected, Murmur2.Partition(Encoding.UTF8.GetBytes("foobar"), 7));
    }
}
