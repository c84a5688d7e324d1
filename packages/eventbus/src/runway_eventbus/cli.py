"""`runway-nats`: apply stream definitions; list and replay dead letters."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

import nats

from runway_eventbus.dead_letters import list_dead_letters, replay
from runway_eventbus.provisioning import DEFAULT_DEFINITIONS, apply_definitions, load_definitions
from runway_eventbus.servers import nats_servers


async def _apply(args: argparse.Namespace) -> int:
    definitions = load_definitions(Path(args.file), replicas=args.replicas)
    nc = await nats.connect(nats_servers(args.url), connect_timeout=5, max_reconnect_attempts=3)
    try:
        for line in await apply_definitions(nc.jetstream(), definitions):
            print(line)
    finally:
        await nc.close()
    return 0


async def _dlq(args: argparse.Namespace) -> int:
    nc = await nats.connect(nats_servers(args.url), connect_timeout=5, max_reconnect_attempts=3)
    try:
        js = nc.jetstream()
        letters = await list_dead_letters(js)
        if args.consumer:
            letters = [d for d in letters if d.consumer == args.consumer]
        if args.seq is not None:
            letters = [d for d in letters if d.parked_seq == args.seq]
        if args.action == "list":
            if not letters:
                print("no dead letters")
            for d in letters:
                print(
                    f"{d.parked_stream}#{d.parked_seq} {d.kind} consumer={d.consumer} "
                    f"original={d.original_stream}#{d.original_seq} {d.original_subject} "
                    f"attempts={d.attempts} error={d.error}"
                )
            return 0
        if not (args.all or args.seq is not None or args.consumer):
            print("replay needs --seq N, --consumer NAME or --all", file=sys.stderr)
            return 2
        for d in letters:
            await replay(js, d)
            print(f"replayed {d.parked_stream}#{d.parked_seq} to {d.original_stream} ({d.consumer})")
        return 0
    finally:
        await nc.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="runway-nats", description=__doc__)
    parser.add_argument("--url", default=os.environ.get("RUNWAY_NATS_URL", "nats://127.0.0.1:4222"))
    commands = parser.add_subparsers(dest="command", required=True)
    apply = commands.add_parser("apply", help="create or update streams and consumers")
    apply.add_argument("--file", default=str(DEFAULT_DEFINITIONS))
    apply.add_argument("--replicas", type=int, default=1, help="3 in production clusters")
    dlq = commands.add_parser("dlq", help="list or replay dead letters")
    dlq.add_argument("action", choices=["list", "replay"])
    dlq.add_argument("--consumer", help="only this durable consumer's dead letters")
    dlq.add_argument("--seq", type=int, help="only the dead letter with this parked sequence")
    dlq.add_argument("--all", action="store_true", help="replay every dead letter")
    args = parser.parse_args(argv)
    runner = _apply if args.command == "apply" else _dlq
    try:
        return asyncio.run(runner(args))
    except (OSError, nats.errors.NoServersError, TimeoutError) as error:
        print(f"runway-nats: cannot reach NATS at {args.url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
