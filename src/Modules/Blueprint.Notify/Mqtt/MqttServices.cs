using Blueprint.Notify.Channels;
using Microsoft.Extensions.DependencyInjection;

namespace Blueprint.Notify.Mqtt;

/// <summary>Registers the embedded MQTT broker and the MQTT delivery channel.</summary>
internal static class MqttServices
{
    /// <summary>Adds the broker (a hosted service on the MQTT port, one instance the channel publishes through) and its channel.</summary>
    public static IServiceCollection AddNotifyMqtt(this IServiceCollection services)
    {
        services.AddSingleton<MqttBroker>();
        services.AddHostedService(provider => provider.GetRequiredService<MqttBroker>());
        services.AddSingleton<IDeliveryChannel, MqttChannel>();
        return services;
    }
}
