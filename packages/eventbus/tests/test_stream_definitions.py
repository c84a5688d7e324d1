"""deploy/nats/jetstream.json is the single source of stream and consumer settings."""

import json
from pathlib import Path

import pytest

from runway_contracts.catalogue import EVENT_TYPES, stream_for
from runway_eventbus.consumer import RETRY_DELAYS_KEY
from runway_eventbus.provisioning import load_definitions

DEFINITIONS = Path(__file__).resolve().parents[3] / "deploy" / "nats" / "jetstream.json"


def test_every_consumer_reads_a_published_event_from_the_stream_that_holds_it() -> None:
    definitions = load_definitions(DEFINITIONS)
    for stream, consumer in definitions.consumers:
        assert consumer.filter_subject in EVENT_TYPES, consumer.durable_name
        assert stream_for(consumer.filter_subject) == stream, consumer.durable_name


def test_consumers_ack_explicitly_retry_with_delays_and_give_up_after_max_deliver() -> None:
    for _stream, consumer in load_definitions(DEFINITIONS).consumers:
        assert consumer.ack_policy.value == "explicit"
        assert consumer.max_deliver and consumer.max_deliver > 1
        delays = [float(d) for d in consumer.metadata[RETRY_DELAYS_KEY].split(",")]
        assert delays == sorted(delays) and delays[0] > 0


def test_production_replicas_are_applied_to_streams_and_consumers() -> None:
    definitions = load_definitions(DEFINITIONS, replicas=3)
    assert {s.num_replicas for s in definitions.streams} == {3}
    assert {c.num_replicas for _, c in definitions.consumers} == {3}


def test_a_durable_name_with_dots_or_32_characters_is_refused(tmp_path: Path) -> None:
    spec = json.loads(DEFINITIONS.read_text())
    spec["consumers"] = [
        {
            "stream": "DONATIONS",
            "durable": "notify-contribution-succeeded-v1",
            "filter_subject": "donations.contribution.succeeded.v1",
        }
    ]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(ValueError, match="under 32 characters"):
        load_definitions(path)
