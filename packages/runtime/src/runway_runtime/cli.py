"""`runway-<service> serve|migrate`: the same two commands for every service."""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from runway_observability.logs import configure_json_logging
from runway_runtime.garbage import settle_heap
from runway_runtime.settings import CommonSettings
from runway_runtime.workers import WorkerSupervisor, reuse_port_socket
from runway_storage import create_database_engine, upgrade_to_head


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def service_main(
    name: str,
    load_settings: Callable[[], CommonSettings],
    database_url: Callable[[CommonSettings], str],
    default_port: Callable[[CommonSettings], int],
    create_app: Callable[[CommonSettings], FastAPI],
    migrations: Path,
    extra_commands: dict[str, Callable[[CommonSettings, list[str]], int]] | None = None,
) -> Callable[[list[str] | None], int]:
    def main(argv: list[str] | None = None) -> int:
        parser = argparse.ArgumentParser(prog=f"runway-{name}")
        commands = parser.add_subparsers(dest="command", required=True)
        serve = commands.add_parser("serve", help="run the HTTP API and the event handlers")
        serve.add_argument("--host", default="127.0.0.1")
        serve.add_argument("--port", type=int)
        serve.add_argument(
            "--workers", type=int, default=1, help="serving processes sharing the port (default 1)"
        )
        commands.add_parser("migrate", help="bring the database schema up to date")
        for extra in extra_commands or {}:
            commands.add_parser(extra, add_help=False)
        args, rest = parser.parse_known_args(argv)
        settings = load_settings()
        if args.command == "migrate":
            upgrade_to_head(create_database_engine(database_url(settings)), migrations)
            print(f"{name}: database at head")
            return 0
        if args.command == "serve":
            port = args.port or default_port(settings)
            configure_json_logging(f"runway-{name}", settings.log_level)
            sockets = None
            if settings.workers > 1:  # one of a supervisor's workers: share the port
                sockets = [reuse_port_socket(args.host, port)]
            elif not port_is_free(args.host, port):
                print(f"runway-{name}: port {port} is already in use", file=sys.stderr)
                return 1
            elif args.workers > 1:
                worker_argv = [sys.executable, sys.argv[0], "serve", "--host", args.host, "--port", str(port)]
                return WorkerSupervisor(worker_argv, args.workers).run()
            app = create_app(settings)
            settle_heap()
            config = uvicorn.Config(
                app,
                host=args.host,
                port=port,
                log_config=None,
                timeout_graceful_shutdown=20,
            )
            uvicorn.Server(config).run(sockets=sockets)
            return 0
        return (extra_commands or {})[args.command](settings, rest)

    return main
