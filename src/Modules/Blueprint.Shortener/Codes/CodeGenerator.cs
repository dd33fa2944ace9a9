using Blueprint.Core.Identifiers;
using Blueprint.Kv;
using StackExchange.Redis;

namespace Blueprint.Shortener.Codes;

/// <summary>
/// Collision-free short codes. Each node leases a block of IDs from the KV with one <c>INCRBY</c>
/// (so nodes never hand out the same ID and the KV sees one call per block, not per link), then
/// scrambles each ID with a keyed Feistel permutation of [0, 62^7) into a 7-character base62
/// code: a bijection, so distinct IDs give distinct codes, yet consecutive IDs look unrelated.
/// The key is made once per database and shared by every node through SQL.
/// </summary>
internal sealed class CodeGenerator(IKvConnection kv, string counterKey, int blockSize) : IDisposable
{
    /// <summary>The length of generated codes.</summary>
    public const int Width = 7;

    private static readonly TimeSpan LeaseTimeout = TimeSpan.FromSeconds(5);

    // Raises the counter to at least ARGV[1]: after a KV loss, IDs already stored are never reused.
    private const string RaiseScript = """
        local current = tonumber(redis.call('GET', KEYS[1]) or '0')
        local floor = tonumber(ARGV[1])
        if current < floor then redis.call('SET', KEYS[1], ARGV[1]) return floor end
        return current
        """;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private FeistelPermutation? _permutation;
    private long _next;
    private long _end;

    /// <summary>How many IDs exist: 62^7.</summary>
    public static ulong Capacity { get; } = Base62.Capacity(Width);

    /// <summary>Sets the scramble key and makes sure the KV counter is past <paramref name="maxStoredId"/>.</summary>
    public async Task InitializeAsync(ReadOnlyMemory<byte> key, long maxStoredId, CancellationToken cancellationToken)
    {
        _permutation = new FeistelPermutation(Capacity, key.Span);
        var connection = await kv.GetAsync(cancellationToken).ConfigureAwait(false);
        await connection.GetDatabase().ScriptEvaluateAsync(RaiseScript, [counterKey], [maxStoredId + 1]).WaitAsync(LeaseTimeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The next ID of this node's block, leasing a new block when it runs out.</summary>
    public async ValueTask<long> NextIdAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_next >= _end)
            {
                var connection = await kv.GetAsync(cancellationToken).ConfigureAwait(false);
                var end = await connection.GetDatabase().StringIncrementAsync(counterKey, blockSize).WaitAsync(LeaseTimeout, cancellationToken).ConfigureAwait(false);
                _next = end - blockSize;
                _end = end;
            }

            var id = _next++;
            if ((ulong)id >= Capacity)
            {
                throw new InvalidOperationException($"every {Width}-character code is used ({Capacity} IDs)");
            }

            return id;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The code of <paramref name="id"/>.</summary>
    public string CodeOf(long id) =>
        Base62.Encode((_permutation ?? throw new InvalidOperationException("the generator is not initialized")).Permute((ulong)id), Width);

    public void Dispose() => _gate.Dispose();
}
