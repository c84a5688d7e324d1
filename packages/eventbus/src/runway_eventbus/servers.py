"""Where the NATS servers are: one URL, or a cluster's URLs separated by commas."""

from __future__ import annotations


def nats_servers(url: str) -> list[str]:
    """`RUNWAY_NATS_URL` as the list nats-py and FastStream take.

    A client given every node of a cluster can connect while any one of them is
    down; once connected it also learns the others from the server it reached.
    """
    servers = [part.strip() for part in url.split(",") if part.strip()]
    if not servers:
        raise ValueError("RUNWAY_NATS_URL names no server")
    return servers
