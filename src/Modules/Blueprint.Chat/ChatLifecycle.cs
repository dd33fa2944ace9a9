using Blueprint.Chat.Live;
using Blueprint.Chat.Storage;
using Microsoft.Extensions.Hosting;

namespace Blueprint.Chat;

/// <summary>Before the node serves: applies the chat's migrations, sets the node id of its ids and subscribes to the rooms' bus.</summary>
internal sealed class ChatLifecycle(ChatStore store, ChatService chat, RoomBus bus) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.MigrateAsync(cancellationToken).ConfigureAwait(false);
        await chat.StartAsync(cancellationToken).ConfigureAwait(false);
        await bus.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => bus.StopAsync();
}
