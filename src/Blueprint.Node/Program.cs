// The executable only parses the command line and composes modules; see NodeCli and BlueprintNode.

// Socket completions run on the epoll thread instead of hopping to the thread pool. For a
// request/response server on few cores (the embedded KV answering many small commands) this removes
// a thread switch per command: bench/RESULTS.md measures it. Every handler in the node is
// asynchronous, which is what this mode requires. It must be set before the first socket exists;
// an explicit value in the environment wins.
const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
{
    Environment.SetEnvironmentVariable(InlineCompletions, "1");
}

return await Blueprint.Node.NodeCli.RunAsync(args).ConfigureAwait(false);
