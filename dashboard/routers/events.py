"""Server-sent events: live alarm and work-order notifications, filtered to the caller's sites."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from dashboard import roles
from dashboard.events import LiveEvent
from dashboard.security import require
from dashboard.users import User

router = APIRouter(prefix="/api/v1/events", tags=["events"])
HEARTBEAT_S = 15.0
# Streams end after this long and browsers reconnect (``retry``), so a server shutting down never waits on them
# for longer, and a client whose token was revoked loses the stream soon.
MAX_STREAM_S = 120.0


def _allowed(user: User, event: LiveEvent) -> bool:
    if user.role in roles.ADMINS:
        return True
    if event.site_id is None or event.site_id not in user.site_ids:
        return False
    if user.role in roles.CREW:
        return event.name == "work_order" and (
            event.data.get("unit_id") == user.unit_id or event.data.get("assignee_id") == user.crew_member_id)
    return True


def frame(event: LiveEvent) -> str:
    """One SSE frame."""
    return f"event: {event.name}\ndata: {json.dumps(event.data, ensure_ascii=False, default=str)}\n\n"


@router.get("/stream", summary="Live events (text/event-stream): `alarm` and `work_order`",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "an endless event stream"}})
async def stream(request: Request,
                 user: Annotated[User, Depends(require(roles.LIVE))]
                 ) -> StreamingResponse:
    """Each event's data is the JSON payload of the database notification (ids, state, site)."""
    broadcaster = request.app.state.broadcaster
    queue = broadcaster.subscribe()

    async def body() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MAX_STREAM_S
        try:
            yield "retry: 2000\n: connected\n\n"
            while not request.app.state.shutting_down and loop.time() < deadline:
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=min(HEARTBEAT_S, deadline - loop.time()))
                except TimeoutError:
                    if await request.is_disconnected():
                        break
                    yield ": keep-alive\n\n"
                    continue
                if _allowed(user, event):
                    yield frame(event)
        finally:
            broadcaster.unsubscribe(queue)

    return StreamingResponse(body(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
