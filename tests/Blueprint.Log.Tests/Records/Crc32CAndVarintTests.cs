using System.Text;
using Blueprint.Log.Records;

namespace Blueprint.Log.Tests.Records;

public sealed class Crc32CAndVarintTests
{
    [Fact]
    public void Crc32C_CheckString_MatchesCastagnoliCheckValue()
    {
        // The standard check value of CRC-32C (iSCSI) for "123456789".
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
    }

    [Fact]
    public void Crc32C_OddLengths_MatchBytewiseComputation()
    {
        var data = new byte[37];
        new Random(7).NextBytes(data);
        for (int length = 0; length <= data.Length; length++)
        {
            Assert.Equal(BitwiseCrc32C(data.AsSpan(0, length)), Crc32C.Compute(data.AsSpan(0, length)));
        }
    }

    [Theory]
    [InlineData(0, "00")]
    [InlineData(-1, "01")]
    [InlineData(1, "02")]
    [InlineData(63, "7E")]
    [InlineData(-64, "7F")]
    [InlineData(64, "8001")]
    [InlineData(300, "D804")]
    [InlineData(int.MaxValue, "FEFFFFFF0F")]
    [InlineData(int.MinValue, "FFFFFFFF0F")]
    public void Varint_Int32_EncodesAsKafkaZigzag(int value, string hex)
    {
        var buffer = new byte[5];
        int written = Varint.Write(buffer, value);
        Assert.Equal(hex, Convert.ToHexString(buffer, 0, written));
        Assert.Equal(written, Varint.SizeOf(value));
        int position = 0;
        Assert.Equal(value, Varint.ReadInt32(buffer.AsSpan(0, written), ref position));
        Assert.Equal(written, position);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(1_700_000_000_000L)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    public void Varint_Int64_RoundTrips(long value)
    {
        var buffer = new byte[10];
        int written = Varint.Write(buffer, value);
        Assert.Equal(written, Varint.SizeOf(value));
        int position = 0;
        Assert.Equal(value, Varint.ReadInt64(buffer.AsSpan(0, written), ref position));
        Assert.Equal(written, position);
    }

    [Fact]
    public void Varint_TruncatedOrOverlong_IsRejected()
    {
        int position = 0;
        Assert.Throws<RecordFormatException>(() => Varint.ReadInt32([0x80, 0x80], ref position));
        position = 0;
        Assert.Throws<RecordFormatException>(() => Varint.ReadInt32([0x80, 0x80, 0x80, 0x80, 0x80, 0x01], ref position));
    }

    private static uint BitwiseCrc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int i = 0; i < 8; i++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }

        return ~crc;
    }
}
