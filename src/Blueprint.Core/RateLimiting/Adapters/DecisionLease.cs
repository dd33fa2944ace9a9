using System.Threading.RateLimiting;

namespace Blueprint.Core.RateLimiting.Adapters;

/// <summary>A lease carrying a core decision; a denied lease reports <see cref="MetadataName.RetryAfter"/>.</summary>
internal sealed class DecisionLease(bool isAcquired, TimeSpan retryAfter) : RateLimitLease
{
    private static readonly string[] DeniedMetadata = [MetadataName.RetryAfter.Name];

    public override bool IsAcquired { get; } = isAcquired;

    public override IEnumerable<string> MetadataNames => IsAcquired ? [] : DeniedMetadata;

    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        if (!IsAcquired && metadataName == MetadataName.RetryAfter.Name)
        {
            metadata = retryAfter;
            return true;
        }

        metadata = null;
        return false;
    }
}
