using Blueprint.MqttLoad;

// Fan-out load for an MQTT broker: one publisher, many subscribers on one topic, one JSON line per run.
// Usage: Blueprint.MqttLoad --help. Bad input: one line on stderr, exit 2.
return await LoadCommand.RunAsync(args);
