using Blueprint.NotifyLoad;

// Publish→webhook load for the notify module, or the same load POSTed directly (the floor); one JSON line per run.
// Usage: Blueprint.NotifyLoad --help. Bad input: one line on stderr, exit 2.
return await LoadCommand.RunAsync(args);
