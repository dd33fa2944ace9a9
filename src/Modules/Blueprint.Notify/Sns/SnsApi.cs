using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml;
using Blueprint.Notify.Channels;
using Blueprint.Notify.Pipeline;
using Blueprint.Notify.State;
using Microsoft.AspNetCore.Http;

namespace Blueprint.Notify.Sns;

/// <summary>
/// SNS's API on the SNS port: the AWS Query protocol subset that awscli and the AWS SDKs use for topics,
/// subscriptions and publishing. Requests are not signature-checked (any credentials work, as on a local emulator).
/// </summary>
public sealed partial class SnsApi(NotifyState state, Publisher publisher, NotifyPipeline pipeline)
{
    /// <summary>The most bytes of one request (a PublishBatch of ten 256 KiB messages, form-encoded, fits).</summary>
    public const int MaxRequestBytes = 8 << 20;

    private const int PageSize = 100;

    /// <summary>Protocols whose subscriptions wait for confirmation, as on SNS.</summary>
    private static readonly HashSet<string> Confirming = new(StringComparer.Ordinal) { "http", "https", "email", "email-json" };

    /// <summary>Answers one request.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var requestId = Guid.NewGuid().ToString("D");
        context.Response.Headers["x-amzn-RequestId"] = requestId;
        string xml;
        try
        {
            var request = await SnsRequest.ReadAsync(context.Request, MaxRequestBytes, context.RequestAborted).ConfigureAwait(false);
            var action = request.Optional("Action") ?? throw new SnsException("MissingAction", "Missing required parameter Action");
            var idempotencyKey = context.Request.Headers["Idempotency-Key"].ToString();
            xml = await DispatchAsync(action, request, requestId, idempotencyKey, context.RequestAborted).ConfigureAwait(false);
            context.Response.StatusCode = StatusCodes.Status200OK;
        }
        catch (SnsException e)
        {
            xml = SnsXml.Error(e, requestId);
            context.Response.StatusCode = e.Status;
        }

        context.Response.ContentType = "text/xml";
        await context.Response.WriteAsync(xml, context.RequestAborted).ConfigureAwait(false);
    }

    private Task<string> DispatchAsync(string action, SnsRequest request, string requestId, string idempotencyKey, CancellationToken cancellationToken) => action switch
    {
        "CreateTopic" => CreateTopicAsync(request, requestId, cancellationToken),
        "DeleteTopic" => DeleteTopicAsync(request, requestId, cancellationToken),
        "ListTopics" => Task.FromResult(ListTopics(request, requestId)),
        "GetTopicAttributes" => Task.FromResult(GetTopicAttributes(request, requestId)),
        "SetTopicAttributes" => SetTopicAttributesAsync(request, requestId, cancellationToken),
        "Subscribe" => SubscribeAsync(request, requestId, cancellationToken),
        "ConfirmSubscription" => ConfirmSubscriptionAsync(request, requestId, cancellationToken),
        "Unsubscribe" => UnsubscribeAsync(request, requestId, cancellationToken),
        "ListSubscriptions" => Task.FromResult(ListSubscriptions(request, requestId, null)),
        "ListSubscriptionsByTopic" => Task.FromResult(ListSubscriptions(request, requestId, RequireTopic(request.Required("TopicArn")).Arn)),
        "GetSubscriptionAttributes" => Task.FromResult(GetSubscriptionAttributes(request, requestId)),
        "SetSubscriptionAttributes" => SetSubscriptionAttributesAsync(request, requestId, cancellationToken),
        "Publish" => PublishAsync(request, requestId, idempotencyKey, cancellationToken),
        "PublishBatch" => PublishBatchAsync(request, requestId, cancellationToken),
        _ => throw new SnsException("InvalidAction", $"Could not find operation {action} for version 2010-03-31"),
    };

    private async Task<string> CreateTopicAsync(SnsRequest request, string requestId, CancellationToken cancellationToken)
    {
        var name = request.Required("Name");
        if (name.EndsWith(".fifo", StringComparison.Ordinal))
        {
            throw SnsException.Invalid("Invalid parameter: FIFO topics are not supported here");
        }

        if (!TopicName().IsMatch(name))
        {
            throw SnsException.Invalid("Invalid parameter: Topic Name");
        }

        var tags = request.Members("Tags").ToDictionary(tag => tag.GetValueOrDefault("Key") ?? "", tag => tag.GetValueOrDefault("Value") ?? "", StringComparer.Ordinal);
        var topic = await state.CreateTopicAsync(name, request.Map("Attributes"), tags, cancellationToken).ConfigureAwait(false);
        return SnsXml.Response("CreateTopic", requestId, xml => xml.WriteElementString("TopicArn", topic.Arn));
    }

    private async Task<string> DeleteTopicAsync(SnsRequest request, string requestId, CancellationToken cancellationToken)
    {
        var arn = request.Required("TopicArn");
        if (state.FindTopic(arn) is { } topic)
        {
            await state.DeleteTopicAsync(topic, cancellationToken).ConfigureAwait(false);
        }

        return SnsXml.Response("DeleteTopic", requestId, null);
    }

    private string ListTopics(SnsRequest request, string requestId)
    {
        var (page, next) = Page(state.Topics.ToList(), request.Optional("NextToken"));
        return SnsXml.Response("ListTopics", requestId, xml =>
        {
            xml.WriteStartElement("Topics");
            foreach (var topic in page)
            {
                xml.WriteStartElement("member");
                xml.WriteElementString("TopicArn", topic.Arn);
                xml.WriteEndElement();
            }

            xml.WriteEndElement();
            if (next is not null)
            {
                xml.WriteElementString("NextToken", next);
            }
        });
    }

    private string GetTopicAttributes(SnsRequest request, string requestId)
    {
        var topic = RequireTopic(request.Required("TopicArn"));
        var subscriptions = state.SubscriptionsOf(topic.Arn).ToList();
        var attributes = new Dictionary<string, string>(topic.Attributes, StringComparer.Ordinal)
        {
            ["TopicArn"] = topic.Arn,
            ["Owner"] = state.Options.AccountId,
            ["SubscriptionsConfirmed"] = subscriptions.Count(subscription => subscription.Confirmed).ToString(CultureInfo.InvariantCulture),
            ["SubscriptionsPending"] = subscriptions.Count(subscription => !subscription.Confirmed).ToString(CultureInfo.InvariantCulture),
            ["SubscriptionsDeleted"] = "0",
        };
        attributes.TryAdd("DisplayName", "");
        return SnsXml.Response("GetTopicAttributes", requestId, xml => SnsXml.Entries(xml, "Attributes", attributes));
    }

    private async Task<string> SetTopicAttributesAsync(SnsRequest request, string requestId, CancellationToken cancellationToken)
    {
        var topic = RequireTopic(request.Required("TopicArn"));
        var name = request.Required("AttributeName");
        if (name is not ("DisplayName" or "Policy" or "DeliveryPolicy" or "TracingConfig" or "KmsMasterKeyId" or "SignatureVersion"))
        {
            throw SnsException.Invalid($"Invalid parameter: AttributeName {name}");
        }

        await state.SetTopicAttributeAsync(topic, name, request.Optional("AttributeValue") ?? "", cancellationToken).ConfigureAwait(false);
        return SnsXml.Response("SetTopicAttributes", requestId, null);
    }

    private async Task<string> SubscribeAsync(SnsRequest request, string requestId, CancellationToken cancellationToken)
    {
        var topic = RequireTopic(request.Required("TopicArn"));
        var protocol = request.Required("Protocol").ToLowerInvariant();
        var endpoint = request.Optional("Endpoint") ?? "";
        if (pipeline.ChannelOf(protocol) is not { } channel)
        {
            throw SnsException.Invalid($"Invalid parameter: Protocol {protocol} is not supported here (supported: {string.Join(", ", pipeline.Protocols.Order(StringComparer.Ordinal))})");
        }

        if (channel.CheckEndpoint(protocol, endpoint) is { } refused)
        {
            throw SnsException.Invalid(refused);
        }

        var attributes = request.Map("Attributes");
        foreach (var (name, value) in attributes)
        {
            CheckSubscriptionAttribute(name, value);
        }

        var confirming = Confirming.Contains(protocol);
        var subscription = await state.SubscribeAsync(topic, protocol, endpoint, attributes, confirming, cancellationToken).ConfigureAwait(false);
        if (!subscription.Confirmed)
        {
            await pipeline.SendConfirmationAsync(subscription, cancellationToken).ConfigureAwait(false);
        }

        var returnArn = string.Equals(request.Optional("ReturnSubscriptionArn"), "true", StringComparison.OrdinalIgnoreCase);
        return SnsXml.Response("Subscribe", requestId, xml => xml.WriteElementString("SubscriptionArn", subscription.Confirmed || returnArn ? subscription.Arn : "pending confirmation"));
    }

    private async Task<string> ConfirmSubscriptionAsync(SnsRequest request, string requestId, CancellationToken cancellationToken)
    {
        var topic = RequireTopic(request.Required("TopicArn"));
        var token = request.Required("Token");
        var pending = state.SubscriptionsOf(topic.Arn).FirstOrDefault(subscription => subscription.Token == token)
            ?? throw SnsException.Invalid("Invalid token");
        var confirmed = await state.UpdateSubscriptionAsync(pending.Id, current => current.Token is null ? current : current with { Token = null }, cancellationToken).ConfigureAwait(false)
            ?? throw SnsException.NotFound("Subscription does not exist");
        return SnsXml.Response("ConfirmSubscription", requestId, xml => xml.WriteElementString("SubscriptionArn", confirmed.Arn));
    }

    private async Task<string> UnsubscribeAsync(SnsRequest request, string requestId, CancellationToken cancellationToken)
    {
        var arn = request.Required("SubscriptionArn");
        var subscription = state.FindSubscription(arn) ?? throw SnsException.NotFound("Subscription does not exist");
        await state.UnsubscribeAsync(subscription.Id, cancellationToken).ConfigureAwait(false);
        return SnsXml.Response("Unsubscribe", requestId, null);
    }

    private string ListSubscriptions(SnsRequest request, string requestId, string? topicArn)
    {
        var all = (topicArn is null ? state.Subscriptions : state.SubscriptionsOf(topicArn)).ToList();
        var (page, next) = Page(all, request.Optional("NextToken"));
        return SnsXml.Response(topicArn is null ? "ListSubscriptions" : "ListSubscriptionsByTopic", requestId, xml =>
        {
            xml.WriteStartElement("Subscriptions");
            foreach (var subscription in page)
            {
                xml.WriteStartElement("member");
                xml.WriteElementString("SubscriptionArn", subscription.Confirmed ? subscription.Arn : "PendingConfirmation");
                xml.WriteElementString("Owner", state.Options.AccountId);
                xml.WriteElementString("Protocol", subscription.Protocol);
                xml.WriteElementString("Endpoint", subscription.Endpoint);
                xml.WriteElementString("TopicArn", subscription.TopicArn);
                xml.WriteEndElement();
            }

            xml.WriteEndElement();
            if (next is not null)
            {
                xml.WriteElementString("NextToken", next);
            }
        });
    }

    private string GetSubscriptionAttributes(SnsRequest request, string requestId)
    {
        var subscription = state.FindSubscription(request.Required("SubscriptionArn")) ?? throw SnsException.NotFound("Subscription does not exist");
        var attributes = new Dictionary<string, string>(subscription.Attributes, StringComparer.Ordinal)
        {
            ["SubscriptionArn"] = subscription.Arn,
            ["TopicArn"] = subscription.TopicArn,
            ["Owner"] = state.Options.AccountId,
            ["Protocol"] = subscription.Protocol,
            ["Endpoint"] = subscription.Endpoint,
            ["PendingConfirmation"] = subscription.Confirmed ? "false" : "true",
            ["ConfirmationWasAuthenticated"] = "false",
            ["RawMessageDelivery"] = subscription.RawMessageDelivery ? "true" : "false",
            ["SigningSecret"] = subscription.SigningSecret,
            ["Enabled"] = subscription.DisabledReason is null ? "true" : "false",
        };
        if (subscription.DisabledReason is { } reason)
        {
            attributes["DisabledReason"] = reason;
        }

        return SnsXml.Response("GetSubscriptionAttributes", requestId, xml => SnsXml.Entries(xml, "Attributes", attributes));
    }

    private async Task<string> SetSubscriptionAttributesAsync(SnsRequest request, string requestId, CancellationToken cancellationToken)
    {
        var subscription = state.FindSubscription(request.Required("SubscriptionArn")) ?? throw SnsException.NotFound("Subscription does not exist");
        var name = request.Required("AttributeName");
        var value = request.Optional("AttributeValue") ?? "";
        if (name == "Enabled")
        {
            var enable = string.Equals(value, "true", StringComparison.OrdinalIgnoreCase);
            await state.UpdateSubscriptionAsync(subscription.Id, current => current with { DisabledReason = enable ? null : "disabled by SetSubscriptionAttributes" }, cancellationToken).ConfigureAwait(false);
            return SnsXml.Response("SetSubscriptionAttributes", requestId, null);
        }

        CheckSubscriptionAttribute(name, value);
        await state.UpdateSubscriptionAsync(
            subscription.Id,
            current =>
            {
                var attributes = new Dictionary<string, string>(current.Attributes, StringComparer.Ordinal);
                if (value.Length == 0)
                {
                    attributes.Remove(name);
                }
                else
                {
                    attributes[name] = value;
                }

                return current with { Attributes = attributes };
            },
            cancellationToken).ConfigureAwait(false);
        return SnsXml.Response("SetSubscriptionAttributes", requestId, null);
    }

    private static void CheckSubscriptionAttribute(string name, string value)
    {
        switch (name)
        {
            case "FilterPolicy" when value.Length > 0:
                if (FilterPolicy.Parse(value, out var error) is null)
                {
                    throw SnsException.Invalid($"Invalid parameter: FilterPolicy: {error}");
                }

                break;
            case "FilterPolicyScope" when value is not ("" or "MessageAttributes" or "MessageBody"):
                throw SnsException.Invalid("Invalid parameter: FilterPolicyScope: must be MessageAttributes or MessageBody");
            case "RawMessageDelivery" when value is not ("" or "true" or "false"):
                throw SnsException.Invalid("Invalid parameter: RawMessageDelivery: must be true or false");
            case "FilterPolicy" or "FilterPolicyScope" or "RawMessageDelivery" or "DeliveryPolicy" or "RedrivePolicy" or "SubscriptionRoleArn":
                break;
            default:
                throw SnsException.Invalid($"Invalid parameter: AttributeName {name}");
        }
    }

    private async Task<string> PublishAsync(SnsRequest request, string requestId, string idempotencyKey, CancellationToken cancellationToken)
    {
        var arn = request.Optional("TopicArn") ?? request.Optional("TargetArn") ?? throw SnsException.Invalid("Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter");
        if (request.Optional("PhoneNumber") is not null)
        {
            throw SnsException.Invalid("Invalid parameter: PhoneNumber: SMS is not supported here");
        }

        var topic = RequireTopic(arn);
        var message = Check(request.Parameters, "", topic.Arn);
        var (messageId, _) = await publisher.AcceptOnceAsync(idempotencyKey.Length > 0 ? idempotencyKey : null, message, cancellationToken).ConfigureAwait(false);
        return SnsXml.Response("Publish", requestId, xml => xml.WriteElementString("MessageId", messageId));
    }

    private async Task<string> PublishBatchAsync(SnsRequest request, string requestId, CancellationToken cancellationToken)
    {
        var topic = RequireTopic(request.Required("TopicArn"));
        var entries = request.Members("PublishBatchRequestEntries");
        if (entries.Count == 0)
        {
            throw new SnsException("EmptyBatchRequest", "The batch request doesn't contain any entries");
        }

        if (entries.Count > 10)
        {
            throw new SnsException("TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible (10)");
        }

        var ids = entries.Select(entry => entry.GetValueOrDefault("Id") ?? "").ToList();
        if (ids.Any(id => !BatchId().IsMatch(id)))
        {
            throw new SnsException("InvalidBatchEntryId", "A batch entry id can only contain alphanumeric characters, hyphens and underscores, at most 80");
        }

        if (ids.Distinct(StringComparer.Ordinal).Count() != ids.Count)
        {
            throw new SnsException("BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id");
        }

        var accepted = new List<(string Id, AcceptedMessage Message)>();
        var failed = new List<(string Id, string Code, string Message)>();
        for (var i = 0; i < entries.Count; i++)
        {
            try
            {
                accepted.Add((ids[i], Check(entries[i], "", topic.Arn)));
            }
            catch (SnsException e)
            {
                failed.Add((ids[i], e.Code, e.Message));
            }
        }

        if (accepted.Count > 0)
        {
            await publisher.AcceptAsync([.. accepted.Select(entry => entry.Message)], cancellationToken).ConfigureAwait(false);
        }

        return SnsXml.Response("PublishBatch", requestId, xml =>
        {
            xml.WriteStartElement("Successful");
            foreach (var (id, message) in accepted)
            {
                xml.WriteStartElement("member");
                xml.WriteElementString("Id", id);
                xml.WriteElementString("MessageId", message.MessageId);
                xml.WriteEndElement();
            }

            xml.WriteEndElement();
            xml.WriteStartElement("Failed");
            foreach (var (id, code, message) in failed)
            {
                xml.WriteStartElement("member");
                xml.WriteElementString("Id", id);
                xml.WriteElementString("Code", code);
                xml.WriteElementString("Message", message);
                xml.WriteElementString("SenderFault", "true");
                xml.WriteEndElement();
            }

            xml.WriteEndElement();
        });
    }

    /// <summary>Reads and checks one message (Publish's parameters or a batch entry's fields).</summary>
    private AcceptedMessage Check(IReadOnlyDictionary<string, string> fields, string prefix, string topicArn)
    {
        if (fields.ContainsKey(prefix + "MessageGroupId") || fields.ContainsKey(prefix + "MessageDeduplicationId"))
        {
            throw SnsException.Invalid("Invalid parameter: MessageGroupId and MessageDeduplicationId are for FIFO topics, which are not supported here");
        }

        var message = fields.GetValueOrDefault(prefix + "Message");
        var subject = fields.GetValueOrDefault(prefix + "Subject");
        var structure = fields.GetValueOrDefault(prefix + "MessageStructure");
        var attributes = new SnsRequest(fields).Map(prefix + "MessageAttributes", "Name", "Value.DataType")
            .ToDictionary(
                pair => pair.Key,
                pair => Attribute(fields, prefix, pair.Key, pair.Value),
                StringComparer.Ordinal);
        if (publisher.Check(message, subject, structure, attributes) is { } refused)
        {
            throw SnsException.Invalid($"Invalid parameter: {refused}");
        }

        return publisher.Create(topicArn, message!, subject, structure, attributes);
    }

    private static AttributeValue Attribute(IReadOnlyDictionary<string, string> fields, string prefix, string name, string dataType)
    {
        // Find the entry index of this name, then its value fields.
        for (var i = 1; fields.TryGetValue($"{prefix}MessageAttributes.entry.{i.ToString(CultureInfo.InvariantCulture)}.Name", out var found); i++)
        {
            if (found != name)
            {
                continue;
            }

            var entry = $"{prefix}MessageAttributes.entry.{i.ToString(CultureInfo.InvariantCulture)}.Value.";
            var text = fields.GetValueOrDefault(entry + "StringValue");
            byte[]? binary = null;
            if (fields.GetValueOrDefault(entry + "BinaryValue") is { } encoded)
            {
                try
                {
                    binary = Convert.FromBase64String(encoded);
                }
                catch (FormatException)
                {
                    throw SnsException.Invalid($"Invalid parameter: The message attribute '{name}' has an invalid binary value");
                }
            }

            if (dataType.StartsWith("Number", StringComparison.Ordinal) && !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                throw SnsException.Invalid($"Invalid parameter: The message attribute '{name}' with type 'Number' must have a numeric value");
            }

            return new AttributeValue(dataType, text, binary);
        }

        return new AttributeValue(dataType, null);
    }

    private TopicRecord RequireTopic(string arn) => state.FindTopic(arn) ?? throw SnsException.NotFound("Topic does not exist");

    private static (List<T> Page, string? Next) Page<T>(List<T> all, string? token)
    {
        var start = token is null ? 0 : int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed <= all.Count ? parsed
            : throw SnsException.Invalid("Invalid parameter: NextToken");
        var page = all.Skip(start).Take(PageSize).ToList();
        return (page, start + PageSize < all.Count ? (start + PageSize).ToString(CultureInfo.InvariantCulture) : null);
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,256}$")]
    private static partial Regex TopicName();

    [GeneratedRegex("^[A-Za-z0-9_-]{1,80}$")]
    private static partial Regex BatchId();
}
