using Blueprint.EtcdLoad;

// Load for an etcd v3 gRPC endpoint set (etcd or Blueprint's coordination module), one JSON line per run.
// Usage: Blueprint.EtcdLoad --help. Bad input: one line on stderr, exit 2.
return await LoadCommand.RunAsync(args);
