namespace Blueprint.Core.Identifiers;

/// <summary>
/// Base62 (<c>0-9A-Za-z</c>) for short codes: fixed width, most significant digit first, so codes
/// of one width sort like their numbers.
/// </summary>
public static class Base62
{
    /// <summary>The alphabet, in digit order.</summary>
    public const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>The widest code handled: 62^10 still fits in 64 bits.</summary>
    public const int WidthMax = 10;

    /// <summary>How many values a code of <paramref name="width"/> characters can hold: 62^width.</summary>
    public static ulong Capacity(int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, WidthMax);
        ulong capacity = 1;
        for (var i = 0; i < width; i++)
        {
            capacity *= 62;
        }

        return capacity;
    }

    /// <summary>Writes <paramref name="value"/> as exactly <paramref name="width"/> characters, left-padded with '0'.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value needs more than <paramref name="width"/> characters.</exception>
    public static string Encode(ulong value, int width)
    {
        if (value >= Capacity(width))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"needs more than {width} base62 characters");
        }

        return string.Create(width, value, static (span, remaining) =>
        {
            for (var i = span.Length - 1; i >= 0; i--)
            {
                span[i] = Alphabet[(int)(remaining % 62)];
                remaining /= 62;
            }
        });
    }

    /// <summary>Reads a code; false when it is empty, too long, or has a character outside the alphabet.</summary>
    public static bool TryDecode(ReadOnlySpan<char> code, out ulong value)
    {
        value = 0;
        if (code.IsEmpty || code.Length > WidthMax)
        {
            return false;
        }

        foreach (var c in code)
        {
            var digit = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'A' and <= 'Z' => c - 'A' + 10,
                >= 'a' and <= 'z' => c - 'a' + 36,
                _ => -1,
            };
            if (digit < 0)
            {
                value = 0;
                return false;
            }

            value = (value * 62) + (ulong)digit;
        }

        return true;
    }
}
