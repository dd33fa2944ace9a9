namespace Blueprint.Core.Probabilistic;

/// <summary>Thrown when bytes given to <see cref="BloomFilter.Deserialize"/> are not a valid serialized filter.</summary>
public sealed class BloomFilterFormatException : FormatException
{
    /// <summary>Creates the exception with a default message.</summary>
    public BloomFilterFormatException()
        : base("The bytes are not a valid serialized Bloom filter.")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    /// <param name="message">What is wrong with the input.</param>
    public BloomFilterFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and its cause.</summary>
    /// <param name="message">What is wrong with the input.</param>
    /// <param name="innerException">The cause.</param>
    public BloomFilterFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
