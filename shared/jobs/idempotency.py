"""`Idempotency-Key` for POST /v1/jobs and POST /v1/streams (IETF httpapi idempotency-key-header draft).

The key is claimed (row `in_flight`) before the body is read, so a concurrent duplicate sees
it at once and gets 409 instead of starting a second upload. The request's fingerprint (a
sha256 over the file bytes, computed while they stream to storage, and the other fields) is
bound to the key in the same transaction that creates the job. A later retry with the same
fingerprint gets the original job back; another payload under the same key gets 422. A
request that fails releases its claim, so it can be retried with the same key. Keys are
remembered for `idempotency_ttl_s` (24 h by default) per tenant.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from shared.config import Settings
from shared.db import IdempotencyKey, scope_for
from shared.db.models import utcnow
from shared.db.repo import dialect_insert
from shared.errors import InvalidRequest

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Claim:
    state: Literal["new", "in_flight", "done"]
    fingerprint: str | None = None
    job_id: str | None = None
    #: The stream the key made (POST /v1/streams uses the same keys, per tenant).
    stream_id: str | None = None


def validate_key(raw: str | None) -> str | None:
    """The header's key (a Structured Field string, quoted or bare), or None when absent."""
    if raw is None:
        return None
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not key or len(key) > MAX_KEY_LENGTH or not all(32 < ord(ch) < 127 for ch in key):
        raise InvalidRequest(
            f"{HEADER} must be 1-{MAX_KEY_LENGTH} printable ASCII characters without spaces",
            [{"field": HEADER, "message": "invalid key", "in": "header"}],
        )
    return key


def fingerprint(kind: str, **parts: Any) -> str:
    """A stable digest of a request's meaning (canonical JSON of its parts)."""
    doc = json.dumps({"kind": kind, **parts}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(doc.encode("utf-8")).hexdigest()


def claim_key(tenant_id: str, key: str, settings: Settings) -> Claim:
    now = utcnow()
    fresh = {
        "state": "in_flight",
        "fingerprint": None,
        "job_id": None,
        "stream_id": None,
        "locked_at": now,
        "created_at": now,
        "expires_at": now + timedelta(seconds=settings.idempotency_ttl_s),
    }
    with scope_for(settings)() as s:
        insert = dialect_insert(s)
        res = s.execute(
            insert(IdempotencyKey)
            .values(tenant_id=tenant_id, key=key, **fresh)
            .on_conflict_do_nothing(index_elements=["tenant_id", "key"])
        )
        if res.rowcount:  # type: ignore[attr-defined]
            return Claim("new")
        row = _locked(s, tenant_id, key)
        if row is None:  # deleted between the two statements (expiry sweep): claim again
            s.execute(insert(IdempotencyKey).values(tenant_id=tenant_id, key=key, **fresh))
            return Claim("new")
        abandoned = row.state == "in_flight" and row.locked_at < now - timedelta(
            seconds=settings.idempotency_lock_s
        )
        if row.expires_at <= now or abandoned:
            s.execute(
                update(IdempotencyKey)
                .where(IdempotencyKey.tenant_id == tenant_id, IdempotencyKey.key == key)
                .values(**fresh)
            )
            return Claim("new")
        if row.state == "in_flight":
            return Claim("in_flight")
        return Claim("done", row.fingerprint, row.job_id, row.stream_id)


def _locked(session: Session, tenant_id: str, key: str) -> IdempotencyKey | None:
    stmt = select(IdempotencyKey).where(IdempotencyKey.tenant_id == tenant_id, IdempotencyKey.key == key)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def complete_key(session: Session, tenant_id: str, key: str, digest: str, job_id: str) -> None:
    """Bind the key to its job (call inside the transaction that inserts the job)."""
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.tenant_id == tenant_id, IdempotencyKey.key == key)
        .values(state="done", fingerprint=digest, job_id=job_id)
    )


def complete_stream_key(session: Session, tenant_id: str, key: str, digest: str, stream_id: str) -> None:
    """Bind the key to the stream it created (inside the transaction that inserts the stream)."""
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.tenant_id == tenant_id, IdempotencyKey.key == key)
        .values(state="done", fingerprint=digest, stream_id=stream_id)
    )


def release_key(tenant_id: str, key: str, settings: Settings) -> None:
    """Forget an in-flight claim whose request failed, so the client may retry with it."""
    with scope_for(settings)() as s:
        s.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.tenant_id == tenant_id,
                IdempotencyKey.key == key,
                IdempotencyKey.state == "in_flight",
            )
        )
