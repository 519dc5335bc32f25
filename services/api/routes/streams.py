"""/v1/streams: watch a live stream (create, read, list, segments, events, stop).

Routes parse HTTP, authorise, call one stream-domain function (`shared/streams`) and present."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import StreamingResponse

from services.api.deps import PrincipalDep, SessionDep, SettingsDep, StreamIdPath
from services.api.problems import problem_responses
from shared.config import Settings
from shared.db import StreamStatus, scope_for
from shared.ids import ULID_PATTERN
from shared.jobs import idempotency
from shared.streams import service
from shared.streams.schemas import StreamCreate, StreamList, StreamPublic, StreamSegmentList
from shared.webhooks.delivery import stream_deliveries_of
from shared.webhooks.presenters import delivery_public
from shared.webhooks.schemas import DeliveryList

router = APIRouter(prefix="/v1", tags=["streams"])

KEEPALIVE_S = 15.0
POLL_S = 0.5


@router.post(
    "/streams",
    status_code=201,
    response_model=StreamPublic,
    responses=problem_responses(400, 409, 422, 429, 503),
    summary="Watch a live stream (RTSP, RTMP, SRT, HLS, MPEG-TS over HTTP)",
)
def create_stream(
    body: StreamCreate,
    response: Response,
    settings: SettingsDep,
    principal: PrincipalDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Retry-safe creation: the same key and body within 24 h return the original stream;"
            " another body under the same key answers 422, while the first request is still running 409.",
        ),
    ] = None,
) -> dict[str, Any]:
    key = idempotency.validate_key(idempotency_key)
    stream, replayed = service.create_idempotent(body, principal, settings, key)
    response.headers["Location"] = f"/v1/streams/{stream.id}"
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return service.stream_public(stream)


@router.get(
    "/streams/{stream_id}",
    response_model=StreamPublic,
    responses=problem_responses(404, 422),
    summary="Get a stream",
)
def get_stream(stream_id: StreamIdPath, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    return service.stream_public(service.get_stream(session, stream_id, principal.tenant_id))


@router.get(
    "/streams",
    response_model=StreamList,
    responses=problem_responses(422),
    summary="List streams, newest first",
)
def list_streams(
    session: SessionDep,
    principal: PrincipalDep,
    status: Annotated[StreamStatus | None, Query(description="Only streams in this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None, Query(pattern=ULID_PATTERN, description="`next_cursor` of the previous page.")
    ] = None,
) -> dict[str, Any]:
    rows, next_cursor = service.list_streams(
        session, principal.tenant_id, status=status.value if status else None, limit=limit, cursor=cursor
    )
    return {"items": [service.stream_public(r) for r in rows], "next_cursor": next_cursor}


@router.get(
    "/streams/{stream_id}/segments",
    response_model=StreamSegmentList,
    responses=problem_responses(404, 422),
    summary="A stream's segments, newest first",
)
def list_segments(
    stream_id: StreamIdPath,
    session: SessionDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[int | None, Query(ge=0, description="`next_cursor` of the previous page.")] = None,
) -> dict[str, Any]:
    service.get_stream(session, stream_id, principal.tenant_id)
    rows, next_cursor = service.list_segments(session, stream_id, limit=limit, cursor=cursor)
    return {"items": [service.segment_public(r) for r in rows], "next_cursor": next_cursor}


@router.delete(
    "/streams/{stream_id}",
    response_model=StreamPublic,
    responses=problem_responses(404, 422),
    summary="Stop watching a stream",
    description="The ingest closes the open segment and stops; what was scored is kept and the stream ends"
    " `stopped` once its last segment is scored (a `status` event says so). A finished stream is returned as is.",
)
def stop_stream(stream_id: StreamIdPath, settings: SettingsDep, principal: PrincipalDep) -> dict[str, Any]:
    stream, deliveries = service.request_stop(stream_id, principal.tenant_id, settings)
    service.queue_deliveries(deliveries)
    return service.stream_public(stream)


@router.get(
    "/streams/{stream_id}/deliveries",
    response_model=DeliveryList,
    responses=problem_responses(404, 422),
    summary="The stream's webhook deliveries (stream.alert, stream.ended, stream.failed), each with every attempt",
)
def list_deliveries(stream_id: StreamIdPath, session: SessionDep, principal: PrincipalDep) -> DeliveryList:
    service.get_stream(session, stream_id, principal.tenant_id)
    return DeliveryList(items=[delivery_public(d) for d in stream_deliveries_of(session, stream_id)])


SSE_DOC = {
    "description": "text/event-stream: `segment`, `alert` and `status` events, each with an `id:`. Reconnect with"
    " `Last-Event-ID` (or `?last_event_id=`) to receive only what followed. The response ends after the"
    " stream's final `status` event.",
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
}


@router.get(
    "/streams/{stream_id}/events",
    response_class=StreamingResponse,
    responses={200: SSE_DOC, **problem_responses(404, 422)},
    summary="Server-sent events of a stream (resumable)",
)
async def stream_events(
    stream_id: StreamIdPath,
    request: Request,
    settings: SettingsDep,
    principal: PrincipalDep,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    last_event_id: Annotated[int | None, Query(ge=0)] = None,
) -> StreamingResponse:
    after = last_event_id or 0
    if last_event_id_header is not None and last_event_id_header.strip().isdigit():
        after = int(last_event_id_header.strip())

    def check() -> None:
        with scope_for(settings)() as s:
            service.get_stream(s, stream_id, principal.tenant_id)

    await anyio.to_thread.run_sync(check)
    return StreamingResponse(
        _events(stream_id, after, settings, request),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _poll(stream_id: StreamIdPath, after: int, settings: Settings) -> tuple[list[tuple[int, str, Any]], bool]:
    with scope_for(settings)() as s:
        events = [(e.seq, e.type, e.data) for e in service.events_after(s, stream_id, after)]
        stream = service.get_stream(s, stream_id, None)
        return events, StreamStatus(stream.status).is_terminal


async def _events(
    stream_id: StreamIdPath, after: int, settings: Settings, request: Request
) -> AsyncIterator[bytes]:
    yield b"retry: 2000\n\n"
    idle = 0.0
    while True:
        events, terminal = await anyio.to_thread.run_sync(_poll, stream_id, after, settings)
        for seq, kind, data in events:
            after = seq
            payload = json.dumps(jsonable_encoder(data), separators=(",", ":"))
            yield f"id: {seq}\nevent: {kind}\ndata: {payload}\n\n".encode()
        if terminal and not events:
            return
        if events:
            idle = 0.0
            continue
        if await request.is_disconnected():
            return
        await asyncio.sleep(POLL_S)
        idle += POLL_S
        if idle >= KEEPALIVE_S:
            idle = 0.0
            yield b": keep-alive\n\n"
