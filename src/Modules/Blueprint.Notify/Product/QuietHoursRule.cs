using System.Globalization;
using Blueprint.Notify.State;

namespace Blueprint.Notify.Product;

/// <summary>When quiet hours end: a send due inside a user's quiet hours waits until their end, in the user's time zone.</summary>
public static class QuietHoursRule
{
    /// <summary>Why the quiet hours or the time zone are not valid, or null.</summary>
    public static string? Check(QuietHours? quiet, string timeZone)
    {
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out _))
        {
            return $"unknown time zone '{timeZone}' (an IANA name such as Europe/Paris)";
        }

        return quiet is null || (Parse(quiet.Start) is not null && Parse(quiet.End) is not null && quiet.Start != quiet.End)
            ? null
            : "quiet hours need a start and an end as HH:mm, different from each other";
    }

    /// <summary>When a send due at <paramref name="due"/> may go: <paramref name="due"/> itself, or the end of the quiet hours it falls in.</summary>
    public static DateTimeOffset Release(DateTimeOffset due, QuietHours? quiet, string timeZone)
    {
        if (quiet is null || Parse(quiet.Start) is not { } start || Parse(quiet.End) is not { } end || !TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out var zone))
        {
            return due;
        }

        var local = TimeZoneInfo.ConvertTime(due, zone);
        var time = TimeOnly.FromTimeSpan(local.TimeOfDay);
        var inside = start < end ? time >= start && time < end : time >= start || time < end;
        if (!inside)
        {
            return due;
        }

        // The end is today when it is later in the day than now, else tomorrow.
        var endDate = DateOnly.FromDateTime(local.DateTime);
        if (time >= end)
        {
            endDate = endDate.AddDays(1);
        }

        var endLocal = endDate.ToDateTime(end);
        return new DateTimeOffset(endLocal, zone.GetUtcOffset(endLocal));
    }

    private static TimeOnly? Parse(string text) =>
        TimeOnly.TryParseExact(text, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var time) ? time : null;
}
