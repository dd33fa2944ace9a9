using System.Globalization;
using System.Text;
using System.Xml;
using Microsoft.AspNetCore.Http;

namespace Blueprint.Notify.Sns;

/// <summary>An SNS error: its code, HTTP status and message, answered in SNS's XML error shape.</summary>
public sealed class SnsException(string code, string message, int status = StatusCodes.Status400BadRequest) : Exception(message)
{
    /// <summary>SNS's error code, for example <c>InvalidParameter</c> or <c>NotFound</c>.</summary>
    public string Code { get; } = code;

    /// <summary>The HTTP status.</summary>
    public int Status { get; } = status;

    /// <summary>An <c>InvalidParameter</c> error.</summary>
    public static SnsException Invalid(string message) => new("InvalidParameter", message);

    /// <summary>A <c>NotFound</c> error (404).</summary>
    public static SnsException NotFound(string message) => new("NotFound", message, StatusCodes.Status404NotFound);
}

/// <summary>
/// The AWS Query protocol as SNS speaks it: parameters from the form body or the query string, flattened lists and
/// maps (<c>Attributes.entry.1.key</c>, <c>Tags.member.1.Key</c>), and XML responses in SNS's namespace.
/// </summary>
public sealed class SnsRequest(IReadOnlyDictionary<string, string> parameters)
{
    /// <summary>SNS's XML namespace.</summary>
    public const string Namespace = "http://sns.amazonaws.com/doc/2010-03-31/";

    /// <summary>The parameters.</summary>
    public IReadOnlyDictionary<string, string> Parameters => parameters;

    /// <summary>A parameter, or null.</summary>
    public string? Optional(string name) => parameters.TryGetValue(name, out var value) ? value : null;

    /// <summary>A parameter that must be there.</summary>
    public string Required(string name) =>
        parameters.TryGetValue(name, out var value) && value.Length > 0 ? value : throw SnsException.Invalid($"Invalid parameter: {name}");

    /// <summary>A map flattened as <c>{prefix}.entry.N.key</c> / <c>.value</c>.</summary>
    public Dictionary<string, string> Map(string prefix, string keyName = "key", string valueName = "value")
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; parameters.TryGetValue($"{prefix}.entry.{i.ToString(CultureInfo.InvariantCulture)}.{keyName}", out var key); i++)
        {
            map[key] = parameters.GetValueOrDefault($"{prefix}.entry.{i.ToString(CultureInfo.InvariantCulture)}.{valueName}") ?? "";
        }

        return map;
    }

    /// <summary>A list of structures flattened as <c>{prefix}.member.N.{field}</c>: each member's fields.</summary>
    public List<Dictionary<string, string>> Members(string prefix)
    {
        var members = new List<Dictionary<string, string>>();
        for (var i = 1; ; i++)
        {
            var start = $"{prefix}.member.{i.ToString(CultureInfo.InvariantCulture)}.";
            var fields = parameters.Where(pair => pair.Key.StartsWith(start, StringComparison.Ordinal))
                .ToDictionary(pair => pair.Key[start.Length..], pair => pair.Value, StringComparer.Ordinal);
            if (fields.Count == 0)
            {
                return members;
            }

            members.Add(fields);
        }
    }

    /// <summary>Reads a request's parameters: the query string, and a form body when there is one (at most <paramref name="maxBytes"/>).</summary>
    public static async Task<SnsRequest> ReadAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in request.Query)
        {
            parameters[key] = value.ToString();
        }

        if (HttpMethods.IsPost(request.Method))
        {
            if (request.ContentLength > maxBytes)
            {
                throw new SnsException("RequestEntityTooLarge", $"Request body over {maxBytes} bytes", StatusCodes.Status413PayloadTooLarge);
            }

            if (!request.HasFormContentType)
            {
                throw new SnsException("MalformedQueryString", "Send the parameters as application/x-www-form-urlencoded (the AWS Query protocol)");
            }

            try
            {
                var form = await request.ReadFormAsync(cancellationToken).ConfigureAwait(false);
                foreach (var (key, value) in form)
                {
                    parameters[key] = value.ToString();
                }
            }
            catch (InvalidDataException e)
            {
                throw new SnsException("MalformedQueryString", $"The request body is not a valid form: {e.Message}");
            }
        }

        return new SnsRequest(parameters);
    }
}

/// <summary>Writes SNS's XML responses.</summary>
public static class SnsXml
{
    /// <summary>A successful response: <c>&lt;{Action}Response&gt;&lt;{Action}Result&gt;…&lt;/…&gt;&lt;ResponseMetadata&gt;…</c>.</summary>
    public static string Response(string action, string requestId, Action<XmlWriter>? result)
    {
        ArgumentNullException.ThrowIfNull(action);
        return Write(xml =>
        {
            xml.WriteStartElement(action + "Response", SnsRequest.Namespace);
            if (result is not null)
            {
                xml.WriteStartElement(action + "Result");
                result(xml);
                xml.WriteEndElement();
            }

            xml.WriteStartElement("ResponseMetadata");
            xml.WriteElementString("RequestId", requestId);
            xml.WriteEndElement();
            xml.WriteEndElement();
        });
    }

    /// <summary>An error response in SNS's shape.</summary>
    public static string Error(SnsException error, string requestId)
    {
        ArgumentNullException.ThrowIfNull(error);
        return Write(xml =>
        {
            xml.WriteStartElement("ErrorResponse", SnsRequest.Namespace);
            xml.WriteStartElement("Error");
            xml.WriteElementString("Type", error.Status >= 500 ? "Receiver" : "Sender");
            xml.WriteElementString("Code", error.Code);
            xml.WriteElementString("Message", error.Message);
            xml.WriteEndElement();
            xml.WriteElementString("RequestId", requestId);
            xml.WriteEndElement();
        });
    }

    /// <summary>Writes <c>&lt;entry&gt;&lt;key/&gt;&lt;value/&gt;&lt;/entry&gt;</c> pairs of an attribute map.</summary>
    public static void Entries(XmlWriter xml, string element, IEnumerable<KeyValuePair<string, string>> map)
    {
        ArgumentNullException.ThrowIfNull(xml);
        xml.WriteStartElement(element);
        foreach (var (key, value) in map)
        {
            xml.WriteStartElement("entry");
            xml.WriteElementString("key", key);
            xml.WriteElementString("value", value);
            xml.WriteEndElement();
        }

        xml.WriteEndElement();
    }

    private static string Write(Action<XmlWriter> body)
    {
        var text = new StringBuilder();
        using (var xml = XmlWriter.Create(text, new XmlWriterSettings { OmitXmlDeclaration = true, Encoding = Encoding.UTF8 }))
        {
            body(xml);
        }

        return text.ToString();
    }
}
