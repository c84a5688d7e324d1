"""What the system did while the load ran, recorded by a process of its own (so the load
generator's own work does not skew it) into tab-separated files under `--out`:

- `events.tsv`: when each `intake.lead.received.v1` and `matching.lead.matched.v1` was
  published (a core-NATS subscription sees each as JetStream stores it): time, subject,
  lead id, and for a received lead its email;
- `lag.tsv`: once a second, every durable consumer's pending + unacknowledged messages;
- `resources.tsv`: once a second, each named process tree's CPU (% of one core) and RSS.
  The trees are read from `--pids` (lines of name and PID) every second: the harness
  rewrites it when a fault restarts a process, so a restarted service is still measured.

    python -m benchmarks.pipeline.observe --nats URL --out DIR --pids FILE

Runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import nats

from runway_eventbus.servers import nats_servers

SUBJECTS = ("intake.lead.received.v1", "matching.lead.matched.v1")
STREAMS = ("INTAKE", "MATCHING", "NOTIFY", "DONATIONS")
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def usage(pids: list[int]) -> tuple[float, int]:
    """CPU seconds used so far and resident bytes, summed over `pids`."""
    cpu, rss = 0.0, 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / TICKS
            rss += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return cpu, rss


def read_pids(path: Path) -> dict[str, int]:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return {}
    return {name: int(pid) for name, pid in (line.split("\t") for line in lines if line)}


async def observe(url: str, out: Path, pids: Path, stop: asyncio.Event) -> None:
    async def quietly(error: Exception) -> None:  # NATS away during a fault: the lag series shows a gap
        pass

    nc = await nats.connect(
        nats_servers(url), max_reconnect_attempts=-1, reconnect_time_wait=0.5, error_cb=quietly
    )
    events = open(out / "events.tsv", "a", buffering=1 << 16)  # noqa: SIM115

    async def on_event(msg: Any) -> None:
        at = time.time()
        data = json.loads(msg.data).get("data", {})
        if msg.subject == SUBJECTS[0]:
            lead = data.get("lead", {})
            events.write(f"{at:.6f}\t{msg.subject}\t{lead.get('lead_id')}\t{lead.get('email')}\n")
        else:
            events.write(f"{at:.6f}\t{msg.subject}\t{data.get('lead_id')}\t\n")

    for subject in SUBJECTS:
        await nc.subscribe(subject, cb=on_event, pending_msgs_limit=1_000_000)
    js = nc.jetstream()
    lag = open(out / "lag.tsv", "a", buffering=1)  # noqa: SIM115
    resources = open(out / "resources.tsv", "a", buffering=1)  # noqa: SIM115
    last: dict[str, tuple[float, float, int]] = {}
    while not stop.is_set():
        now = time.time()
        for stream in STREAMS:
            try:
                for info in await js.consumers_info(stream):
                    waiting = (info.num_pending or 0) + (info.num_ack_pending or 0)
                    lag.write(f"{now:.3f}\t{info.name}\t{waiting}\n")
            except Exception as error:  # NATS away (a fault scenario): a gap in the series
                lag.write(f"{now:.3f}\t-\t-1\t{type(error).__name__}\n")
                break
        for name, root in read_pids(pids).items():
            cpu, rss = usage(process_tree(root))
            before = last.get(name)
            last[name] = (now, cpu, root)
            if before and before[2] == root and cpu >= before[1]:
                percent = 100 * (cpu - before[1]) / max(now - before[0], 1e-6)
                resources.write(f"{now:.3f}\t{name}\t{percent:.1f}\t{rss}\n")
            elif before:  # restarted since the last second (or gone): its count starts again
                percent = 100 * cpu / max(now - before[0], 1e-6)
                resources.write(f"{now:.3f}\t{name}\t{percent:.1f}\t{rss}\n")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
    await nc.drain()
    for file in (events, lag, resources):
        file.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nats", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--pids", type=Path, required=True, help="a file of name<TAB>pid lines")
    args = parser.parse_args()

    async def run() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await observe(args.nats, args.out, args.pids, stop)

    asyncio.run(run())


if __name__ == "__main__":
    main()
