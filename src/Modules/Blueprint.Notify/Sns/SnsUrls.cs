using System.Globalization;
using Blueprint.Hosting;
using Blueprint.Notify.State;
using Microsoft.Extensions.Options;

namespace Blueprint.Notify.Sns;

/// <summary>The URLs receivers call back on the SNS port: confirm a subscription, unsubscribe.</summary>
public sealed class SnsUrls(IOptions<NodeOptions> node, IOptions<NotifyOptions> options)
{
    /// <summary>The SNS port's base URL as clients reach it.</summary>
    public string Base => $"http://{node.Value.ClientHost}:{options.Value.SnsPort.ToString(CultureInfo.InvariantCulture)}/";

    /// <summary>The URL that confirms a pending subscription (SNS's SubscribeURL).</summary>
    public string Confirm(SubscriptionRecord subscription)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        return $"{Base}?Action=ConfirmSubscription&TopicArn={Uri.EscapeDataString(subscription.TopicArn)}&Token={Uri.EscapeDataString(subscription.Token ?? "")}";
    }

    /// <summary>The URL that unsubscribes (SNS's UnsubscribeURL).</summary>
    public string Unsubscribe(string subscriptionArn) => $"{Base}?Action=Unsubscribe&SubscriptionArn={Uri.EscapeDataString(subscriptionArn)}";
}
