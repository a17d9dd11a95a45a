"""What the gateway and the consumers share: settings, keys, scripts, schemas, the client API."""
