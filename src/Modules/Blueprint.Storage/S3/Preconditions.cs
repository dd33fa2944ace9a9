using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Blueprint.Storage.S3;

/// <summary>Conditional requests as S3 evaluates them (RFC 9110 §13.2.2's order): If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since.</summary>
internal static class Preconditions
{
    /// <summary>200 to go on, 412 (PreconditionFailed) or 304 (Not Modified) for a GET or HEAD of an object.</summary>
    public static int Evaluate(IHeaderDictionary headers, string etag, DateTimeOffset modified) =>
        Evaluate(headers[HeaderNames.IfMatch], headers[HeaderNames.IfUnmodifiedSince], headers[HeaderNames.IfNoneMatch], headers[HeaderNames.IfModifiedSince], etag, modified);

    /// <summary>The same for a copy's source (<c>x-amz-copy-source-if-*</c>), where every failure is 412.</summary>
    public static int EvaluateCopySource(IHeaderDictionary headers, string etag, DateTimeOffset modified) =>
        Evaluate(headers["x-amz-copy-source-if-match"], headers["x-amz-copy-source-if-unmodified-since"], headers["x-amz-copy-source-if-none-match"], headers["x-amz-copy-source-if-modified-since"], etag, modified) switch
        {
            StatusCodes.Status304NotModified => StatusCodes.Status412PreconditionFailed,
            var status => status,
        };

    private static int Evaluate(string? ifMatch, string? ifUnmodifiedSince, string? ifNoneMatch, string? ifModifiedSince, string etag, DateTimeOffset modified)
    {
        // Last-Modified is sent in whole seconds: compare at that precision.
        var seconds = DateTimeOffset.FromUnixTimeSeconds(modified.ToUnixTimeSeconds());
        if (!string.IsNullOrEmpty(ifMatch))
        {
            if (!Matches(ifMatch, etag))
            {
                return StatusCodes.Status412PreconditionFailed;
            }
        }
        else if (TryDate(ifUnmodifiedSince, out var unmodifiedSince) && seconds > unmodifiedSince)
        {
            return StatusCodes.Status412PreconditionFailed;
        }

        if (!string.IsNullOrEmpty(ifNoneMatch))
        {
            if (Matches(ifNoneMatch, etag))
            {
                return StatusCodes.Status304NotModified;
            }
        }
        else if (TryDate(ifModifiedSince, out var modifiedSince) && seconds <= modifiedSince)
        {
            return StatusCodes.Status304NotModified;
        }

        return StatusCodes.Status200OK;
    }

    private static bool Matches(string list, string etag)
    {
        foreach (var candidate in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var tag = candidate.StartsWith("W/", StringComparison.Ordinal) ? candidate[2..] : candidate;
            if (tag == "*" || tag.Trim('"') == etag.Trim('"'))
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryDate(string? text, out DateTimeOffset date) =>
        HeaderUtilities.TryParseDate(text, out date);
}
