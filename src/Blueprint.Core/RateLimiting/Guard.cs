namespace Blueprint.Core.RateLimiting;

/// <summary>Argument checks shared by the algorithms.</summary>
internal static class Guard
{
    /// <summary>
    /// Keeps products of permits and ticks below 2^53 so they are exact in a double, which is all a Redis Lua
    /// script has; a C# long would tolerate more, but the cores and their Lua ports must agree bit for bit.
    /// </summary>
    public const long ExactProductMax = 1L << 53;

    /// <summary>
    /// The longest window, 2^53 ticks (over 28 years in TimeSpan ticks): window arithmetic such as
    /// <c>windowStart + 2·W</c> then stays far from overflow, and a window is exact in a double like every other product.
    /// </summary>
    public const long WindowTicksMax = 1L << 53;

    public static void Permits(int permits, long limitPermits)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(permits);
        if (permits > limitPermits)
        {
            throw new ArgumentOutOfRangeException(nameof(permits), permits, $"A request for {permits} permits can never be granted by a limit of {limitPermits}.");
        }
    }

    public static void Product(long permits, long ticks, string what)
    {
        if (permits > ExactProductMax / ticks)
        {
            throw new ArgumentOutOfRangeException(what, $"{what}: {permits} permits × {ticks} ticks exceeds 2^53; use a coarser tick unit.");
        }
    }

    public static void Window(long windowTicks)
    {
        if (windowTicks > WindowTicksMax)
        {
            throw new ArgumentOutOfRangeException(nameof(windowTicks), windowTicks, $"A window of {windowTicks} ticks exceeds WindowTicksMax (2^53 = {WindowTicksMax}); use a coarser tick unit.");
        }
    }

    /// <summary>Returns the start of the aligned window holding <paramref name="nowTicks"/>, also for negative times.</summary>
    public static long FloorToWindow(long nowTicks, long windowTicks)
    {
        // The remainder is added back only when negative, so nothing is summed that could overflow.
        long remainder = nowTicks % windowTicks;
        if (remainder < 0)
        {
            remainder += windowTicks;
        }

        return nowTicks - remainder;
    }
}
