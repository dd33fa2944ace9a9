using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using Microsoft.AspNetCore.Http;

namespace Blueprint.Storage.S3;

/// <summary>S3's XML: responses written in the 2006-03-01 namespace, request bodies read with a size cap and no DTDs.</summary>
internal static class S3Xml
{
    public static readonly XNamespace Ns = "http://s3.amazonaws.com/doc/2006-03-01/";

    private static readonly XmlWriterSettings WriterSettings = new() { Encoding = new UTF8Encoding(false), Indent = false, Async = true };

    private static readonly XmlReaderSettings ReaderSettings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreWhitespace = true,
        MaxCharactersInDocument = 8 * 1024 * 1024,
        Async = true,
    };

    /// <summary>An element in S3's namespace.</summary>
    public static XElement E(string name, params object?[] content) => new(Ns + name, content);

    /// <summary>S3's timestamp format in XML (ISO 8601 with milliseconds, UTC).</summary>
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Writes <paramref name="root"/> as the response body with status <paramref name="status"/>.</summary>
    public static async Task WriteAsync(HttpResponse response, XElement root, int status = StatusCodes.Status200OK)
    {
        response.StatusCode = status;
        await WriteDocumentAsync(response, root).ConfigureAwait(false);
    }

    /// <summary>Writes S3's error document (no body for HEAD, as S3 does).</summary>
    public static async Task WriteErrorAsync(HttpContext context, S3Exception error, string requestId)
    {
        var response = context.Response;
        response.StatusCode = error.Status;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        var root = new XElement("Error",
            new XElement("Code", error.Code),
            new XElement("Message", error.Message),
            error.Resource is null ? null : new XElement("Resource", error.Resource),
            new XElement("RequestId", requestId));
        await WriteDocumentAsync(response, root).ConfigureAwait(false);
    }

    private static async Task WriteDocumentAsync(HttpResponse response, XElement root)
    {
        response.ContentType = "application/xml";
        using var buffer = new MemoryStream();
        await using (var writer = XmlWriter.Create(buffer, WriterSettings))
        {
            await new XDocument(new XDeclaration("1.0", "UTF-8", null), root).WriteToAsync(writer, CancellationToken.None).ConfigureAwait(false);
        }

        response.ContentLength = buffer.Length;
        await response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length)).ConfigureAwait(false);
    }

    /// <summary>Reads a request's XML body of at most <paramref name="maxBytes"/>; MalformedXML when it is not XML, too large or empty.</summary>
    public static async Task<XElement> ReadAsync(Stream body, int maxBytes, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + n > maxBytes)
            {
                throw S3Exception.MalformedXml();
            }

            buffer.Write(chunk, 0, n);
        }

        buffer.Position = 0;
        try
        {
            using var reader = XmlReader.Create(buffer, ReaderSettings);
            return (await XDocument.LoadAsync(reader, LoadOptions.None, cancellationToken).ConfigureAwait(false)).Root ?? throw S3Exception.MalformedXml();
        }
        catch (XmlException)
        {
            throw S3Exception.MalformedXml();
        }
    }

    /// <summary>The child elements named <paramref name="name"/>, in S3's namespace or none (clients send both).</summary>
    public static IEnumerable<XElement> Children(XElement parent, string name) => parent.Elements().Where(element => element.Name.LocalName == name);

    /// <summary>The value of the first child named <paramref name="name"/>, or null.</summary>
    public static string? Child(XElement parent, string name) => Children(parent, name).FirstOrDefault()?.Value;
}
