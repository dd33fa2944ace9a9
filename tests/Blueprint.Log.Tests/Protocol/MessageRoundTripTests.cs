using Blueprint.Log.Kafka.Protocol;
using CsCheck;

namespace Blueprint.Log.Tests.Protocol;

/// <summary>Every request and response, at every advertised version, written and read back with random field values.</summary>
public sealed class MessageRoundTripTests
{
    public static TheoryData<string, short> Cases => MessageCases.EveryVersion();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Message_RandomValues_RoundTripsFieldByField(string name, short version)
    {
        MessageCase message = MessageCases.Get(name);
        Gen.Int.Sample(
            seed =>
            {
                var original = (IKafkaMessage)new MessageFiller(new Random(seed), message.Type, version).Fill(message.Type);
                byte[] bytes = MessageCases.Encode(original, version);

                (IKafkaMessage read, int remaining) = message.Read(bytes, version);

                Assert.Equal(0, remaining);
                MessageComparer.AssertRoundTripped(message.Type, version, original, read);
                Assert.Equal(bytes, MessageCases.Encode(read, version));
            },
            iter: 40);
    }

    [Fact]
    public void Comparer_FieldDroppedByAVersion_IsCaught()
    {
        // A planted bug: LogStartOffset exists from version 5; a codec that skipped it in version 5 would behave like
        // writing version 4. The comparer must notice, or the round-trip tests above prove nothing.
        var response = (ProduceResponse)new MessageFiller(new Random(7), typeof(ProduceResponse), 5).Fill(typeof(ProduceResponse));
        byte[] asVersion4 = MessageCases.Encode(response, 4);
        (IKafkaMessage read, _) = MessageCases.Get(nameof(ProduceResponse)).Read(asVersion4, 4);

        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => MessageComparer.AssertRoundTripped(typeof(ProduceResponse), 5, response, read));
    }

    [Fact]
    public void Comparer_FieldInventedInAVersionWithoutIt_IsCaught()
    {
        // The other direction: a value read back for a field the version does not carry.
        var request = new LeaveGroupRequest { GroupId = "g", MemberId = "m" };
        var read = new LeaveGroupRequest { GroupId = "g", MemberId = "m", Members = [new LeaveGroupRequest.MemberIdentity { MemberId = "m" }] };

        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => MessageComparer.AssertRoundTripped(typeof(LeaveGroupRequest), 2, request, read));
    }

    [Fact]
    public void MetadataRequest_Version0AllTopics_IsAnEmptyArrayReadAsNull()
    {
        byte[] bytes = MessageCases.Encode(new MetadataRequest { Topics = null }, 0);

        Assert.Equal(new byte[] { 0, 0, 0, 0 }, bytes);
        (IKafkaMessage read, _) = MessageCases.Get(nameof(MetadataRequest)).Read(bytes, 0);
        Assert.Null(((MetadataRequest)read).Topics);
    }

    [Fact]
    public void MetadataRequest_Version1NoTopicsAndAllTopics_AreDistinct()
    {
        Assert.Equal(new byte[] { 0, 0, 0, 0 }, MessageCases.Encode(new MetadataRequest { Topics = [] }, 1));
        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, MessageCases.Encode(new MetadataRequest { Topics = null }, 1));
    }

    [Fact]
    public void OffsetFetchRequest_NullTopicsBeforeVersion2_IsRejectedOnWrite()
    {
        Assert.Throws<ArgumentException>(() => MessageCases.Encode(new OffsetFetchRequest { GroupId = "g", Topics = null }, 1));
    }

    [Fact]
    public void OffsetForLeaderEpoch_Version4_IsFlexibleAndNotSpoken()
    {
        Assert.True(ApiVersionTable.IsFlexible(ApiKey.OffsetForLeaderEpoch, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => MessageCases.Encode(new OffsetForLeaderEpochResponse(), 4));
        var exception = Assert.Throws<KafkaProtocolException>(() => MessageCases.Get(nameof(OffsetForLeaderEpochRequest)).Read(new byte[64], 4));
        Assert.Contains("OffsetForLeaderEpoch version 4", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData((short)2)]
    [InlineData((short)9)]
    public void ProduceRequest_UnsupportedVersion_IsRejectedBothWays(short version)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MessageCases.Encode(new ProduceRequest(), version));
        var exception = Assert.Throws<KafkaProtocolException>(() => MessageCases.Get(nameof(ProduceRequest)).Read(new byte[64], version));
        Assert.Contains("Produce version", exception.Message, StringComparison.Ordinal);
    }
}
