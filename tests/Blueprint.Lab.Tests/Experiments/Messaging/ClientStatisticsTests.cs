using Blueprint.Lab.Experiments.Messaging;

namespace Blueprint.Lab.Tests.Experiments.Messaging;

public sealed class ClientStatisticsTests
{
    [Fact]
    public void Update_LibrdkafkaReport_SumsRequestsOverBrokers()
    {
        // The shape of librdkafka's statistics JSON (STATISTICS.md), trimmed to the fields read: the bootstrap entry
        // and the broker itself each count requests.
        const string Report = """
            {
              "name": "rdkafka#producer-1", "txmsgs": 1200, "rxmsgs": 7,
              "brokers": {
                "127.0.0.1:9092/bootstrap": { "req": { "Produce": 0, "Fetch": 0, "Metadata": 1 } },
                "127.0.0.1:9092/1": { "req": { "Produce": 40, "Fetch": 3, "ApiVersion": 1 } },
                "GroupCoordinator": { "state": "UP" }
              }
            }
            """;
        ClientStatistics statistics = new();

        statistics.Update(Report);

        Assert.Equal((40L, 3L, 1200L, 7L), (statistics.ProduceRequests, statistics.FetchRequests, statistics.RecordsSent, statistics.RecordsReceived));
    }

    [Fact]
    public void WaitForNextReport_ReportArrives_Returns()
    {
        ClientStatistics statistics = new();
        const string Report = """{ "txmsgs": 1, "rxmsgs": 0, "brokers": {} }""";
        int polls = 0;

        // Each poll delivers a report, as a consumer's poll would: two reports end the wait.
        statistics.WaitForNextReport(() =>
        {
            polls++;
            statistics.Update(Report);
        }, TimeSpan.FromSeconds(10));

        Assert.Equal(2, polls);
    }
}
