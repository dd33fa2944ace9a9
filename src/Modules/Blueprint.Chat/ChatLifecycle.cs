using Blueprint.Chat.Storage;
using Microsoft.Extensions.Hosting;

namespace Blueprint.Chat;

/// <summary>Applies the chat's migrations before the node serves.</summary>
internal sealed class ChatLifecycle(ChatStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.MigrateAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
