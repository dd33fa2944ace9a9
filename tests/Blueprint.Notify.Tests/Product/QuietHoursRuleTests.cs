using Blueprint.Notify.Product;
using Blueprint.Notify.State;

namespace Blueprint.Notify.Tests.Product;

public sealed class QuietHoursRuleTests
{
    private static readonly QuietHours Night = new("22:00", "07:00");

    [Theory]
    [InlineData("2026-12-07T21:59:00Z", "2026-12-07T21:59:00Z")]
    [InlineData("2026-12-07T22:00:00Z", "2026-12-08T07:00:00Z")]
    [InlineData("2026-12-08T03:30:00Z", "2026-12-08T07:00:00Z")]
    [InlineData("2026-12-08T07:00:00Z", "2026-12-08T07:00:00Z")]
    [InlineData("2026-12-08T12:00:00Z", "2026-12-08T12:00:00Z")]
    public void ASendInsideQuietHoursAcrossMidnight_WaitsForTheirEnd(string due, string released) =>
        Assert.Equal(DateTimeOffset.Parse(released, System.Globalization.CultureInfo.InvariantCulture), QuietHoursRule.Release(DateTimeOffset.Parse(due, System.Globalization.CultureInfo.InvariantCulture), Night, "UTC"));

    [Fact]
    public void QuietHoursWithinOneDay_AndInTheUsersTimeZone()
    {
        var lunch = new QuietHours("12:00", "13:30");

        // 11:15 UTC is 12:15 in Paris (UTC+1 in December): quiet until 13:30 Paris, 12:30 UTC.
        var released = QuietHoursRule.Release(new DateTimeOffset(2026, 12, 7, 11, 15, 0, TimeSpan.Zero), lunch, "Europe/Paris");

        Assert.Equal(new DateTimeOffset(2026, 12, 7, 12, 30, 0, TimeSpan.Zero), released.ToUniversalTime());
        Assert.Equal(new DateTimeOffset(2026, 12, 7, 10, 15, 0, TimeSpan.Zero), QuietHoursRule.Release(new DateTimeOffset(2026, 12, 7, 10, 15, 0, TimeSpan.Zero), lunch, "Europe/Paris"));
    }

    [Fact]
    public void BadQuietHoursAndZones_AreRefusedWithAReason()
    {
        Assert.Null(QuietHoursRule.Check(Night, "Europe/Paris"));
        Assert.Contains("unknown time zone", QuietHoursRule.Check(Night, "Mars/Olympus"), StringComparison.Ordinal);
        Assert.Contains("HH:mm", QuietHoursRule.Check(new QuietHours("25:00", "07:00"), "UTC"), StringComparison.Ordinal);
        Assert.Contains("HH:mm", QuietHoursRule.Check(new QuietHours("07:00", "07:00"), "UTC"), StringComparison.Ordinal);
    }
}
