"""Typed FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from shared.auth import LOCAL_TENANT, Principal, authenticate
from shared.config import Settings
from shared.db import session_factory
from shared.storage import ObjectStore, get_store


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_db(settings: SettingsDep) -> Iterator[Session]:
    session = session_factory(settings.resolved_database_url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_db)]


def get_object_store(settings: SettingsDep) -> ObjectStore:
    return get_store(settings)


StoreDep = Annotated[ObjectStore, Depends(get_object_store)]


def get_principal(
    settings: SettingsDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    if not settings.auth_enabled:
        return Principal(tenant_id=LOCAL_TENANT)
    factory = session_factory(settings.resolved_database_url)
    with factory() as session:
        principal = authenticate(session, authorization)
        session.commit()
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
