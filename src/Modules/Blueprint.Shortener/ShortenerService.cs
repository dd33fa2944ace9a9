using System.Security.Cryptography;
using Blueprint.Kv;
using Blueprint.Shortener.Caching;
using Blueprint.Shortener.Clicks;
using Blueprint.Shortener.Codes;
using Blueprint.Shortener.Storage;
using Blueprint.Shortener.Validation;
using Microsoft.Extensions.Options;

namespace Blueprint.Shortener;

/// <summary>A create request, checked.</summary>
/// <param name="Url">The target as given.</param>
/// <param name="Alias">The custom code, or null for a generated one.</param>
/// <param name="ExpiresAt">When it expires, or null.</param>
/// <param name="RedirectType">301 or 302.</param>
/// <param name="RequestHost">The Host of the create request (a link must not point back at it).</param>
internal sealed record CreateLink(string? Url, string? Alias, DateTimeOffset? ExpiresAt, int RedirectType, string? RequestHost);

/// <summary>Why a create failed.</summary>
internal enum CreateError
{
    None,
    Invalid,
    AliasTaken,
}

/// <summary>The links' operations, over the store, the read path and the code generator.</summary>
internal sealed class ShortenerService : IDisposable
{
    private const int GeneratedAttemptsMax = 8;
    private readonly LinkStore _store;
    private readonly ClickStore _clicks;
    private readonly LinkCache _cache;
    private readonly CodeGenerator _codes;
    private readonly UrlPolicy _policy;
    private readonly TimeProvider _time;
    private readonly ShortenerMetrics _metrics;
    private readonly IKvConnection _kv;
    private readonly ShortenerOptions _options;

    public ShortenerService(LinkStore store, ClickStore clicks, LinkCache cache, IKvConnection kv, IOptions<ShortenerOptions> options, TimeProvider time, ShortenerMetrics metrics)
    {
        _store = store;
        _clicks = clicks;
        _cache = cache;
        _kv = kv;
        _options = options.Value;
        _time = time;
        _metrics = metrics;
        _codes = new CodeGenerator(kv, _options.KeyPrefix + "ids", _options.IdBlockSize);
        var selfHosts = string.IsNullOrWhiteSpace(_options.BaseUrl) ? [] : new[] { new Uri(_options.BaseUrl).Host };
        _policy = new UrlPolicy(_options.UrlLengthMax, selfHosts, _options.BlockedDomains);
    }

    /// <summary>The generator, for the lifecycle to initialize.</summary>
    public CodeGenerator Codes => _codes;

    /// <summary>Prepares the code generator: the shared scramble key, and a KV counter past every stored ID.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var proposed = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        var key = await _store.GetOrAddSettingAsync("code_key", proposed, cancellationToken).ConfigureAwait(false);
        var maxId = await _store.MaxIdAsync(cancellationToken).ConfigureAwait(false);
        await _codes.InitializeAsync(Convert.FromHexString(key), maxId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates a link: validated, stored in SQL, announced to every node.</summary>
    public async Task<(Link? Link, CreateError Error, string Reason)> CreateAsync(CreateLink request, CancellationToken cancellationToken)
    {
        if (!_policy.TryNormalize(request.Url, request.RequestHost, out var url, out var reason))
        {
            return (null, CreateError.Invalid, reason);
        }

        if (request.RedirectType is not (301 or 302))
        {
            return (null, CreateError.Invalid, "redirectType must be 301 or 302");
        }

        var now = _time.GetUtcNow();
        if (request.ExpiresAt is { } expires && expires <= now)
        {
            return (null, CreateError.Invalid, "expiresAt must be in the future");
        }

        var createdAt = DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds());
        var expiresAt = request.ExpiresAt is { } given ? DateTimeOffset.FromUnixTimeMilliseconds(given.ToUnixTimeMilliseconds()) : (DateTimeOffset?)null;
        Link? link = null;
        if (request.Alias is not null)
        {
            if (AliasRules.Check(request.Alias) is { } aliasReason)
            {
                return (null, CreateError.Invalid, aliasReason);
            }

            link = new Link(request.Alias, url, null, request.RedirectType, createdAt, expiresAt);
            if (!await _store.TryInsertAsync(link, cancellationToken).ConfigureAwait(false))
            {
                return (null, CreateError.AliasTaken, $"alias '{request.Alias}' is taken");
            }
        }
        else
        {
            // A generated code can only be taken by a custom alias of the same 7 characters, or be a reserved word: skip that ID.
            for (var attempt = 0; link is null; attempt++)
            {
                if (attempt == GeneratedAttemptsMax)
                {
                    throw new InvalidOperationException($"no free code after {GeneratedAttemptsMax} IDs");
                }

                var id = await _codes.NextIdAsync(cancellationToken).ConfigureAwait(false);
                var candidate = new Link(_codes.CodeOf(id), url, id, request.RedirectType, createdAt, expiresAt);
                // A 7-character word such as "healthz" or "metrics" is a node path, never a code.
                if (!AliasRules.Reserved.Contains(candidate.Code) && await _store.TryInsertAsync(candidate, cancellationToken).ConfigureAwait(false))
                {
                    link = candidate;
                }
            }
        }

        _metrics.Created(request.Alias is not null);
        await _cache.OnCreatedAsync(link).ConfigureAwait(false);
        return (link, CreateError.None, "");
    }

    /// <summary>The stored link, or null.</summary>
    public Task<Link?> GetAsync(string code, CancellationToken cancellationToken) =>
        IsPlausibleCode(code) ? _store.FindAsync(code, cancellationToken) : Task.FromResult<Link?>(null);

    /// <summary>Deletes a link everywhere: SQL, then the KV cache and every node's near cache; false when there was none.</summary>
    public async Task<bool> DeleteAsync(string code, CancellationToken cancellationToken)
    {
        if (!IsPlausibleCode(code) || !await _store.DeleteAsync(code, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        await _cache.OnDeletedAsync(code).ConfigureAwait(false);
        try
        {
            var database = (await _kv.GetAsync(CancellationToken.None).ConfigureAwait(false)).GetDatabase();
            await database.KeyDeleteAsync(ClickRecorder.UniqueKey(_options, code)).WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception error) when (error is StackExchange.Redis.RedisException or TimeoutException)
        {
            // The link is gone; its unique-visitor estimate lingers until a link with this code counts again.
        }

        return true;
    }

    /// <summary>A page of links after <paramref name="cursor"/>.</summary>
    public Task<IReadOnlyList<Link>> ListAsync(string? cursor, int limit, CancellationToken cancellationToken) =>
        _store.ListAsync(cursor, limit, cancellationToken);

    /// <summary>The click statistics, with approximate unique visitors from the KV's HyperLogLog.</summary>
    public async Task<(LinkStats Stats, long UniqueVisitors)> StatsAsync(string code, CancellationToken cancellationToken)
    {
        var stats = await _clicks.StatsAsync(code, days: 90, referrers: 10, cancellationToken).ConfigureAwait(false);
        var database = (await _kv.GetAsync(cancellationToken).ConfigureAwait(false)).GetDatabase();
        var unique = await database.HyperLogLogLengthAsync(ClickRecorder.UniqueKey(_options, code)).WaitAsync(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
        return (stats, unique);
    }

    /// <summary>Whether <paramref name="code"/> could be a code at all (charset and length): anything else is 404 without a lookup.</summary>
    public static bool IsPlausibleCode(string code)
    {
        if (code.Length is < AliasRules.LengthMin or > AliasRules.LengthMax)
        {
            return false;
        }

        foreach (var c in code)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_' && c != '-')
            {
                return false;
            }
        }

        return true;
    }

    public void Dispose() => _codes.Dispose();
}
