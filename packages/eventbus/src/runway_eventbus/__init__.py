"""Delivery guarantees shared by every Runway service.

- `tables`: the outbox and inbox tables, added to a service's own metadata.
- `outbox`: stage an event in the caller's transaction.
- `inbox`: record (consumer, event id) in the caller's transaction.
- `relay`: publish staged events to JetStream with `Nats-Msg-Id`, mark after ack.
- `consumer`: retrying JetStream subscribers that park poison messages in DLQ.
- `provisioning`: streams and consumers as code (deploy/nats), applied by `runway-nats`.
"""
