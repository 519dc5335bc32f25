"""Typed FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from shared.access.auth import LOCAL_TENANT, Principal, authenticate
from shared.access.ratelimit import RateLimiter
from shared.config import Settings
from shared.db import session_scope
from shared.ids import ULID_PATTERN
from shared.storage import ObjectStore, get_store

#: A job id in a URL path: checked to be a ULID before anything queries it (a malformed id,
#: a NUL byte included, is a 422, never a database error).
JobIdPath = Annotated[str, Path(pattern=ULID_PATTERN, description="The job's id (a ULID).")]
StreamIdPath = Annotated[str, Path(pattern=ULID_PATTERN, description="The stream's id (a ULID).")]


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_db(settings: SettingsDep) -> Iterator[Session]:
    with session_scope(settings.resolved_database_url) as session:
        yield session


#: One transaction per request, committed when the route returns and before the answer is
#: sent (`scope="function"`), so a client never sees a write that might still roll back.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]


def get_object_store(settings: SettingsDep) -> ObjectStore:
    return get_store(settings)


StoreDep = Annotated[ObjectStore, Depends(get_object_store)]

#: Declares the scheme in OpenAPI (the Authorize button of /docs); the header is checked below.
bearer_scheme = HTTPBearer(
    auto_error=False,
    bearerFormat="dfs_<key>",
    description="An API key (`deepfakestream keys create`). Each key sees only its tenant's jobs.",
)


def get_principal(
    request: Request,
    settings: SettingsDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """Who is calling (tenant `local` when auth is off), after their rate limit allowed it."""
    if not settings.auth_required:
        principal = Principal(tenant_id=LOCAL_TENANT)
    else:
        with session_scope(settings.resolved_database_url) as session:
            principal = authenticate(session, request.headers.get("authorization"))
    limiter: RateLimiter = request.app.state.rate_limiter
    limiter.hit(
        f"key:{principal.key_id}" if principal.key_id else f"tenant:{principal.tenant_id}",
        principal.rate_limit_per_minute,
        principal.rate_limit_burst,
    )
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
