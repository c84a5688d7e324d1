"""JetStream stream names: one per owning service, plus the dead-letter stream."""

INTAKE = "INTAKE"
MATCHING = "MATCHING"
NOTIFY = "NOTIFY"
DONATIONS = "DONATIONS"
DLQ = "DLQ"

DLQ_SUBJECT_PREFIX = "dlq"


def dlq_subject(durable: str, original_subject: str) -> str:
    """Where a message parked by consumer `durable` is stored."""
    return f"{DLQ_SUBJECT_PREFIX}.{durable}.{original_subject}"
