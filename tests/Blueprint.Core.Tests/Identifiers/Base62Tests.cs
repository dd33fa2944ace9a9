using Blueprint.Core.Identifiers;

namespace Blueprint.Core.Tests.Identifiers;

public sealed class Base62Tests
{
    [Theory]
    [InlineData(0UL, 7, "0000000")]
    [InlineData(61UL, 1, "z")]
    [InlineData(62UL, 2, "10")]
    [InlineData(3_521_614_606_207UL, 7, "zzzzzzz")]
    public void Encode_KnownValues_MatchHandComputedCodes(ulong value, int width, string code)
    {
        Assert.Equal(code, Base62.Encode(value, width));
        Assert.True(Base62.TryDecode(code, out var decoded));
        Assert.Equal(value, decoded);
    }

    [Fact]
    public void Capacity_SevenCharacters_Is62ToTheSeventh() => Assert.Equal(3_521_614_606_208UL, Base62.Capacity(7));

    [Fact]
    public void Encode_ValueAboveWidth_IsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Base62.Encode(Base62.Capacity(7), 7));

    [Theory]
    [InlineData("")]
    [InlineData("abc-def")]
    [InlineData("ab cd")]
    [InlineData("ééé")]
    [InlineData("00000000000")]
    public void TryDecode_Invalid_IsFalse(string code) => Assert.False(Base62.TryDecode(code, out _));

    [Fact]
    public void Encode_RoundTripsAndKeepsOrder() =>
        CsCheck.Gen.ULong[0, Base62.Capacity(7) - 2].Sample(value =>
        {
            var code = Base62.Encode(value, 7);
            var next = Base62.Encode(value + 1, 7);
            return Base62.TryDecode(code, out var back) && back == value && string.CompareOrdinal(code, next) < 0;
        });
}
