using System.Globalization;
using Blueprint.Chat.Tests;

namespace Blueprint.Chat.Browser.Tests;

/// <summary>The several-node helper the cross-node browser tests build on.</summary>
public sealed class ChatNodesTests
{
    [Fact]
    public async Task StartAsync_TwoNodes_EachServesThePageAndStampsItsOwnNodeIdInMessageIds()
    {
        await using var nodes = await ChatNodes.StartAsync(2);

        for (var index = 0; index < nodes.Nodes.Count; index++)
        {
            var node = nodes[index];
            using var page = await node.Http.GetAsync(new Uri("/chat", UriKind.Relative), ChatKit.Token);
            var key = await node.UserAsync("alice");
            var room = await node.RoomAsync(key, "general");
            var id = long.Parse(await node.PostAsync(key, room, "hello"), CultureInfo.InvariantCulture);

            Assert.Equal(System.Net.HttpStatusCode.OK, page.StatusCode);
            // Snowflake layout: 12 bits of sequence below 10 bits of node id.
            Assert.Equal(index, (int)((id >> 12) & 1023));
        }
    }
}
