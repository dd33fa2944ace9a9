// The executable only parses the command line and composes modules; see NodeCli and BlueprintNode.
return await Blueprint.Node.NodeCli.RunAsync(args).ConfigureAwait(false);
