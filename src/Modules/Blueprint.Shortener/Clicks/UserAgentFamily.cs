using System.Buffers;

namespace Blueprint.Shortener.Clicks;

/// <summary>
/// Buckets a User-Agent header into a small fixed set of families for click stats. The set is fixed
/// so stats stay bounded whatever clients send. The checks run in order because UAs borrow each
/// other's tokens: bots often claim to be Chrome, Edge and Opera say "Chrome", Chrome says "Safari".
/// </summary>
internal static class UserAgentFamily
{
    public const string Bot = "Bot";
    public const string Curl = "curl";
    public const string Wget = "Wget";
    public const string HttpLibrary = "HTTP library";
    public const string Edge = "Edge";
    public const string Opera = "Opera";
    public const string SamsungInternet = "Samsung Internet";
    public const string Chrome = "Chrome";
    public const string Firefox = "Firefox";
    public const string Safari = "Safari";
    public const string Other = "Other";
    public const string Unknown = "Unknown";

    // Real User-Agents are a few hundred characters; the family tokens sit well inside this.
    private const int ScannedLengthMax = 2048;

    private static readonly SearchValues<string> BotTokens = Tokens(
        "bot", "crawl", "spider", "slurp", "facebookexternalhit", "facebookcatalog", "preview", "embedly",
        "ia_archiver", "headlesschrome", "lighthouse", "pingdom");

    private static readonly SearchValues<string> LibraryTokens = Tokens(
        "python-requests", "python-urllib", "python-httpx", "aiohttp", "go-http-client", "okhttp", "java/",
        "apache-httpclient", "axios", "node-fetch", "undici", "libwww", "libcurl", "guzzlehttp", "postmanruntime",
        "dart:io");

    private static readonly SearchValues<string> EdgeTokens = Tokens("edg/", "edga/", "edgios/", "edge/");
    private static readonly SearchValues<string> OperaTokens = Tokens("opr/", "opera", "opios/");
    private static readonly SearchValues<string> SamsungTokens = Tokens("samsungbrowser/");
    private static readonly SearchValues<string> FirefoxTokens = Tokens("firefox/", "fxios/");
    private static readonly SearchValues<string> ChromeTokens = Tokens("chrome/", "crios/", "chromium/");
    private static readonly SearchValues<string> SafariTokens = Tokens("safari/");

    /// <summary>Every family <see cref="Classify"/> returns.</summary>
    public static IReadOnlyList<string> All { get; } =
        [Bot, Curl, Wget, HttpLibrary, Edge, Opera, SamsungInternet, Chrome, Firefox, Safari, Other, Unknown];

    /// <summary>The family of <paramref name="userAgent"/>; <see cref="Unknown"/> when there is none. Allocates nothing.</summary>
    public static string Classify(string? userAgent)
    {
        var text = userAgent.AsSpan().Trim();
        if (text.IsEmpty)
        {
            return Unknown;
        }

        if (text.Length > ScannedLengthMax)
        {
            text = text[..ScannedLengthMax];
        }

        return text switch
        {
            _ when text.ContainsAny(BotTokens) => Bot,
            _ when text.StartsWith("curl/", StringComparison.OrdinalIgnoreCase) => Curl,
            _ when text.StartsWith("wget", StringComparison.OrdinalIgnoreCase) => Wget,
            _ when text.ContainsAny(LibraryTokens) => HttpLibrary,
            _ when text.ContainsAny(EdgeTokens) => Edge,
            _ when text.ContainsAny(OperaTokens) => Opera,
            _ when text.ContainsAny(SamsungTokens) => SamsungInternet,
            _ when text.ContainsAny(FirefoxTokens) => Firefox,
            _ when text.ContainsAny(ChromeTokens) => Chrome,
            _ when text.ContainsAny(SafariTokens) => Safari,
            _ => Other,
        };
    }

    private static SearchValues<string> Tokens(params string[] tokens) =>
        SearchValues.Create(tokens, StringComparison.OrdinalIgnoreCase);
}
