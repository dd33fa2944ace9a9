using Blueprint.Notify.Channels;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Notify.Email;

/// <summary>Registers the SMTP sink, its mailbox and the email delivery channel.</summary>
internal static class EmailServices
{
    /// <summary>Adds the sink (a hosted service on the SMTP port, unless it is 0), the mailbox and the channel.</summary>
    public static IServiceCollection AddNotifyEmail(this IServiceCollection services)
    {
        services.AddSingleton<Mailbox>();
        services.AddHostedService<SmtpSink>();
        services.AddSingleton<IDeliveryChannel, EmailChannel>();
        return services;
    }
}
