"""API keys: `dfs_` + 32 random bytes (base64url), stored only as a SHA-256 hash.

A key belongs to a tenant; everything a key can see is scoped to its tenant. With auth off
(the embedded default, never implied in production settings) every request is tenant `local`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db.models import ApiKey, utcnow
from shared.errors import Unauthorized

KEY_PREFIX = "dfs_"
LOCAL_TENANT = "local"


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    key_id: str | None = None


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
    return Principal(tenant_id=key.tenant_id, key_id=key.id)
