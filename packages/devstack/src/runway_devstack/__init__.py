"""One-machine Runway: the embedded NATS server, the mail sink, the process supervisor."""
