using Microsoft.AspNetCore.Http;

namespace Blueprint.Storage.S3;

/// <summary>
/// A request S3 refuses: its error code (as the S3 API reference names them), the HTTP status and a message. The API
/// turns it into S3's XML error body; thrown anywhere below the endpoint, including from a request body being read.
/// </summary>
internal sealed class S3Exception : Exception
{
    public S3Exception(string code, int status, string message, string? resource = null)
        : base(message)
    {
        Code = code;
        Status = status;
        Resource = resource;
    }

    public S3Exception()
        : this("InternalError", StatusCodes.Status500InternalServerError, "We encountered an internal error. Please try again.")
    {
    }

    public S3Exception(string message)
        : this("InternalError", StatusCodes.Status500InternalServerError, message)
    {
    }

    public S3Exception(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = "InternalError";
        Status = StatusCodes.Status500InternalServerError;
    }

    /// <summary>The S3 error code, for example <c>NoSuchKey</c>.</summary>
    public string Code { get; }

    /// <summary>The HTTP status.</summary>
    public int Status { get; }

    /// <summary>The bucket or object the error is about, when it is about one.</summary>
    public string? Resource { get; }

    public static S3Exception AccessDenied(string message = "Access Denied") => new("AccessDenied", 403, message);

    public static S3Exception SignatureDoesNotMatch(string message = "The request signature we calculated does not match the signature you provided. Check your key and signing method.") =>
        new("SignatureDoesNotMatch", 403, message);

    public static S3Exception InvalidAccessKeyId() => new("InvalidAccessKeyId", 403, "The AWS access key Id you provided does not exist in our records.");

    public static S3Exception AuthorizationHeaderMalformed(string message) => new("AuthorizationHeaderMalformed", 400, message);

    public static S3Exception AuthorizationQueryParametersError(string message) => new("AuthorizationQueryParametersError", 400, message);

    public static S3Exception RequestTimeTooSkewed() => new("RequestTimeTooSkewed", 403, "The difference between the request time and the server's time is too large.");

    public static S3Exception ExpiredPresignedUrl() => new("AccessDenied", 403, "Request has expired");

    public static S3Exception ContentSha256Mismatch() => new("XAmzContentSHA256Mismatch", 400, "The provided 'x-amz-content-sha256' header does not match what was computed.");

    public static S3Exception BadDigest() => new("BadDigest", 400, "The Content-MD5 or checksum you specified did not match what we received.");

    public static S3Exception InvalidDigest() => new("InvalidDigest", 400, "The Content-MD5 or checksum you specified is not valid.");

    public static S3Exception IncompleteBody(string message = "You did not provide the number of bytes specified by the Content-Length HTTP header.") => new("IncompleteBody", 400, message);

    public static S3Exception InvalidRequest(string message) => new("InvalidRequest", 400, message);

    public static S3Exception InvalidArgument(string message) => new("InvalidArgument", 400, message);

    public static S3Exception MissingContentLength() => new("MissingContentLength", 411, "You must provide the Content-Length HTTP header.");

    public static S3Exception EntityTooLarge(long max) => new("EntityTooLarge", 400, $"Your proposed upload exceeds the maximum allowed size ({max} bytes).");

    public static S3Exception EntityTooSmall() => new("EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed object size.");

    public static S3Exception InvalidBucketName(string bucket, string reason) => new("InvalidBucketName", 400, $"The specified bucket is not valid: {reason}", bucket);

    public static S3Exception NoSuchBucket(string bucket) => new("NoSuchBucket", 404, "The specified bucket does not exist", bucket);

    public static S3Exception NoSuchKey(string key) => new("NoSuchKey", 404, "The specified key does not exist.", key);

    public static S3Exception NoSuchUpload(string uploadId) => new("NoSuchUpload", 404, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", uploadId);

    public static S3Exception BucketAlreadyOwnedByYou(string bucket) => new("BucketAlreadyOwnedByYou", 409, "Your previous request to create the named bucket succeeded and you already own it.", bucket);

    public static S3Exception BucketNotEmpty(string bucket) => new("BucketNotEmpty", 409, "The bucket you tried to delete is not empty", bucket);

    public static S3Exception InvalidRange() => new("InvalidRange", 416, "The requested range is not satisfiable");

    public static S3Exception InvalidPart(string message) => new("InvalidPart", 400, message);

    public static S3Exception InvalidPartOrder() => new("InvalidPartOrder", 400, "The list of parts was not in ascending order. The parts list must be specified in order by part number.");

    public static S3Exception MalformedXml() => new("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema.");

    public static S3Exception KeyTooLong() => new("KeyTooLongError", 400, "Your key is too long.");

    public static S3Exception MetadataTooLarge() => new("MetadataTooLarge", 400, "Your metadata headers exceed the maximum allowed metadata size.");

    public static S3Exception PreconditionFailed() => new("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold");

    public static S3Exception NotImplemented(string what) => new("NotImplemented", 501, $"A header or query you provided implies functionality that is not implemented: {what}");

    public static S3Exception MethodNotAllowed() => new("MethodNotAllowed", 405, "The specified method is not allowed against this resource.");

    public static S3Exception ServiceUnavailable(string message) => new("ServiceUnavailable", 503, message);
}
