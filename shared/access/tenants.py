"""Tenants and their webhook secrets (admin operations; the CLI and the webhook worker use them).

A tenant owns API keys and jobs. Its webhook secret signs every event sent for its jobs, so a
receiver can tell this service's requests (and this tenant's) from anyone else's. A rotation
keeps the previous secret signing for a grace period: both signatures go out, so receivers can
switch secrets without missing an event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db.models import Tenant, utcnow
from shared.errors import InvalidRequest, NotFound
from shared.ids import new_ulid
from shared.webhooks.signing import generate_secret

_TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class NewSecret:
    tenant_id: str
    secret: str
    previous_valid_until: datetime | None


def create_tenant(
    session: Session, name: str, tenant_id: str | None = None, *, max_running_jobs: int | None = None
) -> tuple[Tenant, str]:
    """A new tenant and its webhook secret (returned once; show it to the operator)."""
    tenant_id = tenant_id or new_ulid().lower()
    if not _TENANT_ID.match(tenant_id):
        raise InvalidRequest(
            "a tenant id is 1-64 of a-z, 0-9, '_', '.', '-', starting with a letter or digit"
        )
    if session.get(Tenant, tenant_id) is not None:
        raise InvalidRequest(f"tenant {tenant_id} already exists")
    secret = generate_secret()
    tenant = Tenant(id=tenant_id, name=name, webhook_secret=secret, max_running_jobs=max_running_jobs)
    session.add(tenant)
    session.flush()
    return tenant, secret


def get_tenant(session: Session, tenant_id: str) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"tenant {tenant_id} does not exist")
    return tenant


def ensure_tenant(session: Session, tenant_id: str) -> Tenant:
    """The tenant row, created with a fresh secret if missing (the implicit `local` tenant of a
    deployment with auth off has no row until its first webhook)."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        from shared.db.repo import dialect_insert

        insert = dialect_insert(session)
        session.execute(
            insert(Tenant)
            .values(id=tenant_id, name=tenant_id, webhook_secret=generate_secret(), created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["id"])
        )
        tenant = session.get(Tenant, tenant_id)
        assert tenant is not None
    if tenant.webhook_secret is None:
        tenant.webhook_secret = generate_secret()
        session.flush()
    return tenant


def list_tenants(session: Session) -> list[Tenant]:
    return list(session.execute(select(Tenant).order_by(Tenant.created_at)).scalars())


def set_max_running_jobs(session: Session, tenant_id: str, value: int | None) -> Tenant:
    tenant = get_tenant(session, tenant_id)
    tenant.max_running_jobs = value
    return tenant


def rotate_webhook_secret(session: Session, tenant_id: str, grace: timedelta) -> NewSecret:
    """Make a new secret; the current one keeps signing (as a second signature) for `grace`."""
    tenant = ensure_tenant(session, tenant_id)
    now = utcnow()
    if grace.total_seconds() > 0 and tenant.webhook_secret:
        tenant.webhook_secret_previous = tenant.webhook_secret
        tenant.webhook_secret_previous_expires_at = now + grace
    else:
        tenant.webhook_secret_previous = None
        tenant.webhook_secret_previous_expires_at = None
    tenant.webhook_secret = generate_secret()
    session.flush()
    return NewSecret(tenant.id, tenant.webhook_secret, tenant.webhook_secret_previous_expires_at)


def signing_secrets(tenant: Tenant, now: datetime | None = None) -> list[str]:
    """Secrets that sign an event now: the current one, plus the previous during its grace."""
    now = now or utcnow()
    out = [tenant.webhook_secret] if tenant.webhook_secret else []
    if (
        tenant.webhook_secret_previous
        and tenant.webhook_secret_previous_expires_at is not None
        and tenant.webhook_secret_previous_expires_at > now
    ):
        out.append(tenant.webhook_secret_previous)
    return out
