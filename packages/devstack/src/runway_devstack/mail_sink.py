"""A local SMTP server that keeps every message as an .eml file, listed over HTTP.

For development and tests only: it accepts mail for any address and delivers
nothing. `GET /messages` lists what arrived; `GET /messages/{name}` returns one.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import time
import uuid
from pathlib import Path
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI, HTTPException
from fastapi.responses import Response


class SaveToDirectory:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        partial = self.directory / (name + ".part")
        partial.write_bytes(envelope.original_content or envelope.content)
        partial.rename(self.directory / name)  # readers never see a half-written file
        return "250 Message accepted for delivery"


def summarize(path: Path) -> dict[str, Any]:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    return {
        "id": path.name,
        "from": message["From"],
        "to": message["To"],
        "subject": message["Subject"],
        "date": message["Date"],
        "message_id": message["Message-ID"],
    }


def create_app(directory: Path) -> FastAPI:
    app = FastAPI(title="Runway mail sink", description="Messages received by the local SMTP sink.")

    @app.get("/messages")
    def list_messages() -> list[dict[str, Any]]:
        return [summarize(p) for p in sorted(directory.glob("*.eml"))]

    @app.get("/messages/{name}")
    def get_message(name: str) -> Response:
        path = directory / Path(name).name
        if not path.exists():
            raise HTTPException(404, f"no message {name}")
        return Response(path.read_bytes(), media_type="message/rfc822")

    @app.get("/livez")
    def livez() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="runway-mail-sink", description=__doc__)
    parser.add_argument("--directory", type=Path, required=True)
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    args = parser.parse_args(argv)
    controller = Controller(SaveToDirectory(args.directory), hostname="127.0.0.1", port=args.smtp_port)
    controller.start()
    try:
        uvicorn.run(create_app(args.directory), host="127.0.0.1", port=args.http_port, log_level="warning")
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
