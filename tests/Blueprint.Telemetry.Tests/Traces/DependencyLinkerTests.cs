using Blueprint.Telemetry.Traces;
using static Blueprint.Telemetry.Tests.Traces.TraceKit;

namespace Blueprint.Telemetry.Tests.Traces;

/// <summary>Calls between services counted as spans arrive, in either order, within the linker's memory.</summary>
public sealed class DependencyLinkerTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.UnixEpoch.AddDays(20_000);

    [Fact]
    public void AChildBeforeOrAfterItsParentIsOneCallAndASameServiceChildIsNone()
    {
        var linker = new DependencyLinker(capacity: 100);
        var root = Span(TraceId(1), SpanId(1), null, "GET /", Start, TimeSpan.FromMilliseconds(9));
        var early = Span(TraceId(1), SpanId(2), SpanId(1), "load", Start, TimeSpan.FromMilliseconds(3));
        var late = Span(TraceId(1), SpanId(3), SpanId(1), "quote", Start, TimeSpan.FromMilliseconds(3));
        var local = Span(TraceId(1), SpanId(4), SpanId(1), "render", Start, TimeSpan.FromMilliseconds(1));

        Assert.Empty(linker.Add(early, "cart", 10)); // the child ends first: its parent is not known yet
        Assert.Equal([("web", "cart", 10L)], linker.Add(root, "web", 5));
        Assert.Equal([("web", "price", 20L)], linker.Add(late, "price", 20));
        Assert.Empty(linker.Add(local, "web", 30));
    }

    [Fact]
    public void AParentArrivingAfterMoreThanCapacitySpansIsNotLinked()
    {
        var linker = new DependencyLinker(capacity: 4);
        Assert.Empty(linker.Add(Span(TraceId(1), SpanId(2), SpanId(1), "child", Start, TimeSpan.FromMilliseconds(1)), "cart", 1));
        for (var i = 0; i < 5; i++)
        {
            linker.Add(Span(TraceId(100 + i), SpanId(10 + i), SpanId(50 + i), "other", Start, TimeSpan.FromMilliseconds(1)), "x", 1);
        }

        Assert.Empty(linker.Add(Span(TraceId(1), SpanId(1), null, "root", Start, TimeSpan.FromMilliseconds(1)), "web", 1));
    }
}
