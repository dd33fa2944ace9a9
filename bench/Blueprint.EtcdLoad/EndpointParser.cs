namespace Blueprint.EtcdLoad;

/// <summary>Endpoints as etcd's clients write them: <c>HOST:PORT</c> or <c>http://HOST:PORT</c> (plaintext only).</summary>
internal static class EndpointParser
{
    /// <summary>The endpoint as <c>http://HOST:PORT/</c>, or false when it is not one.</summary>
    public static bool TryParse(string text, out Uri uri)
    {
        var withScheme = text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text;
        if (Uri.TryCreate(withScheme, UriKind.Absolute, out var parsed) && parsed.Scheme == Uri.UriSchemeHttp
            && !parsed.IsDefaultPort && parsed.AbsolutePath == "/" && parsed.Query.Length == 0)
        {
            uri = parsed;
            return true;
        }

        uri = null!;
        return false;
    }

    /// <summary>The endpoint as printed: <c>http://HOST:PORT</c>, no trailing slash.</summary>
    public static string Format(Uri uri) => uri.GetLeftPart(UriPartial.Authority);
}
