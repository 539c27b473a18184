"""Liveness, readiness (checks the database and that the gateways keep up) and Prometheus metrics."""

from __future__ import annotations

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from gateway.health import stalled_gateways

router = APIRouter(tags=["ops"])


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    """Always ``ok`` while the process serves requests."""
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: the database answers", responses={503: {"description": "not ready"}})
def readyz(request: Request) -> JSONResponse:
    """``ready`` when a pooled connection runs ``SELECT 1`` within 2 s and no gateway session has had messages
    waiting without a commit, or been silent, for longer than its own bound (``gateway.health``); else 503."""
    try:
        with request.app.state.pool.connection(timeout=2) as conn:
            conn.execute("SELECT 1")
            stalled = stalled_gateways(conn)
    except psycopg.Error as exc:  # the pool's timeout and closed errors are psycopg errors too
        return JSONResponse({"error": {"code": "not_ready", "message": "database unavailable",
                                       "details": {"reason": type(exc).__name__}}}, 503)
    if stalled:
        return JSONResponse({"error": {"code": "not_ready", "message": "ingestion stalled",
                                       "details": {"stalled": [stall.describe() for stall in stalled]}}}, 503)
    return JSONResponse({"status": "ready", "database": "ok"})


@router.get("/metrics", summary="Prometheus metrics (text format)", response_class=PlainTextResponse)
def metrics(request: Request) -> PlainTextResponse:
    """Request counts and durations per route, SSE subscribers."""
    return PlainTextResponse(request.app.state.metrics.render(),
                             media_type="text/plain; version=0.0.4; charset=utf-8")
