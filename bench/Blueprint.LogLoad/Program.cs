using Blueprint.LogLoad;

// Load for a durable log (a Kafka-wire broker, Redis Streams, NATS JetStream) or the disk under it, one JSON line per run.
// Usage: Blueprint.LogLoad --help. Bad input: one line on stderr, exit 2.
return await LoadCommand.RunAsync(args);
