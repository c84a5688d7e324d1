"""`/livez`, `/readyz` and `/metrics` for a service's FastAPI app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

ReadinessCheck = Callable[[], Awaitable[bool]]


def probes_router(
    registry: CollectorRegistry, checks: dict[str, ReadinessCheck], *, worker: int = 0, workers: int = 1
) -> APIRouter:
    router = APIRouter(tags=["operations"])
    # Which serving process answered a scrape: with `--workers N` each keeps its own counters.
    Gauge(
        "runway_serving_process",
        "This process's index among the service's",
        ["worker", "workers"],
        registry=registry,
    ).labels(str(worker), str(workers)).set(1)

    @router.get("/livez", summary="The process is up (and which of the service's serving processes)")
    async def livez() -> dict[str, object]:
        return {"status": "ok", "worker": worker, "workers": workers}

    @router.get("/readyz", summary="The database and NATS are reachable")
    async def readyz(response: Response) -> dict[str, object]:
        results = {}
        for name, check in checks.items():
            try:
                results[name] = await check()
            except Exception:
                results[name] = False
        ready = all(results.values())
        response.status_code = 200 if ready else 503
        return {"status": "ready" if ready else "not ready", "checks": results}

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
