"""API keys: `dfs_` + 32 random bytes (base64url), stored only as a SHA-256 hash.

A key belongs to a tenant; everything a key can see is scoped to its tenant. With auth off
(the embedded default, never implied in production settings) every request is tenant `local`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shared.db.models import ApiKey, Tenant, utcnow
from shared.errors import InvalidRequest, NotFound, Unauthorized
from shared.ids import new_ulid

KEY_PREFIX = "dfs_"
LOCAL_TENANT = "local"


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    key_id: str | None = None
    #: Per-key overrides of the rate limit (None: the deployment's settings).
    rate_limit_per_minute: int | None = None
    rate_limit_burst: int | None = None


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def generate_key() -> tuple[str, str, str]:
    """A new key: (token shown once, display prefix, stored hash)."""
    token = KEY_PREFIX + secrets.token_urlsafe(32)
    return token, token[: len(KEY_PREFIX) + 6], hash_key(token)


def authenticate(session: Session, authorization: str | None) -> Principal:
    if not authorization:
        raise Unauthorized("missing Authorization: Bearer <api key>")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("the Authorization header must be `Bearer <api key>`")
    key = session.execute(select(ApiKey).where(ApiKey.key_hash == hash_key(token))).scalar_one_or_none()
    if key is None or key.revoked_at is not None:
        raise Unauthorized("unknown or revoked API key")
    key.last_used_at = utcnow()
    return Principal(
        tenant_id=key.tenant_id,
        key_id=key.id,
        rate_limit_per_minute=key.rate_limit_per_minute,
        rate_limit_burst=key.rate_limit_burst,
    )


# --- administration (CLI) ----------------------------------------------------------------


def create_api_key(
    session: Session,
    tenant_id: str,
    name: str = "",
    *,
    rate_limit_per_minute: int | None = None,
    rate_limit_burst: int | None = None,
) -> tuple[ApiKey, str]:
    """A new key for `tenant_id`; the token is returned once and only its hash is stored."""
    if session.get(Tenant, tenant_id) is None:
        raise NotFound(f"tenant {tenant_id} does not exist (create it first)")
    for label, value in (("rate limit", rate_limit_per_minute), ("burst", rate_limit_burst)):
        if value is not None and value < 0:
            raise InvalidRequest(f"{label} must be >= 0")
    token, prefix, digest = generate_key()
    key = ApiKey(
        id=new_ulid(),
        tenant_id=tenant_id,
        name=name,
        prefix=prefix,
        key_hash=digest,
        rate_limit_per_minute=rate_limit_per_minute,
        rate_limit_burst=rate_limit_burst,
    )
    session.add(key)
    session.flush()
    return key, token


def list_api_keys(session: Session, tenant_id: str | None = None) -> list[ApiKey]:
    stmt = select(ApiKey).order_by(ApiKey.created_at)
    if tenant_id is not None:
        stmt = stmt.where(ApiKey.tenant_id == tenant_id)
    return list(session.execute(stmt).scalars())


def revoke_api_key(session: Session, key_id_or_prefix: str) -> ApiKey:
    """Revoke by id or by the displayed prefix (`dfs_abcdef`); it answers 401 from then on."""
    rows = list(
        session.execute(
            select(ApiKey).where(or_(ApiKey.id == key_id_or_prefix, ApiKey.prefix == key_id_or_prefix))
        ).scalars()
    )
    if not rows:
        raise NotFound(f"no API key {key_id_or_prefix}")
    if len(rows) > 1:
        raise InvalidRequest(f"{key_id_or_prefix} matches {len(rows)} keys; use the key id")
    key = rows[0]
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key
