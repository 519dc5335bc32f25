"""Per-key request rate limits (a Redis token bucket) and the per-tenant cap on unfinished jobs.

The bucket lives in the broker's Redis, so every API replica shares it, and its clock is
Redis's (`TIME`), so replicas with skewed clocks agree. On the embedded filesystem broker
there is no Redis: rate limiting is skipped, and a log line says so once at start. A Redis
error lets the request through (and is logged): an outage of the limiter must not become an
outage of the API. The running-jobs cap needs only Postgres and always applies.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.config import Settings
from shared.db import repo
from shared.db.models import Tenant
from shared.errors import RateLimited

log = logging.getLogger(__name__)

# KEYS[1] bucket; ARGV[1] refill tokens/s; ARGV[2] capacity. Returns {allowed, wait_s, tokens_left}.
TOKEN_BUCKET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return {allowed, tostring(wait), tostring(tokens)}
"""

KEY_PREFIX = "dfs:ratelimit:"


class RateLimiter:
    """Token buckets keyed by API key (or tenant when auth is off)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._script: Any = None
        url = settings.resolved_broker_url
        if settings.rate_limit_per_minute == 0:
            log.info("rate limiting is off (DFS_RATE_LIMIT_PER_MINUTE=0)")
        elif url.startswith(("redis://", "rediss://")):
            import redis

            client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
            self._script = client.register_script(TOKEN_BUCKET)
        else:
            log.info("rate limiting is off: the broker (%s) is not Redis", url.split(":", 1)[0])

    @property
    def enabled(self) -> bool:
        return self._script is not None

    def hit(self, bucket: str, per_minute: int | None = None, burst: int | None = None) -> None:
        """Take one token from `bucket`; raise `RateLimited` (429, Retry-After) when empty."""
        per_minute = self.settings.rate_limit_per_minute if per_minute is None else per_minute
        burst = self.settings.rate_limit_burst if burst is None else burst
        if self._script is None or per_minute <= 0:
            return
        import redis

        try:
            allowed, wait, _left = self._script(
                keys=[KEY_PREFIX + bucket], args=[per_minute / 60.0, max(1, burst)]
            )
        except redis.RedisError as exc:
            log.warning("rate limiter unavailable, request let through: %s", exc)
            return
        if not int(allowed):
            retry_after = max(1, math.ceil(float(wait)))
            raise RateLimited(
                f"rate limit of {per_minute} requests per minute exceeded; retry in {retry_after} s",
                retry_after=retry_after,
            )


def running_jobs_cap(session: Session, tenant_id: str, settings: Settings) -> int:
    tenant = session.get(Tenant, tenant_id)
    if tenant is not None and tenant.max_running_jobs is not None:
        return tenant.max_running_jobs
    return settings.max_running_jobs_per_tenant


def check_running_jobs(session: Session, tenant_id: str, settings: Settings, *, lock: bool = False) -> None:
    """Raise `RateLimited` when the tenant already has its cap of queued + processing jobs.
    With `lock`, the tenant row is locked first so concurrent submissions count one by one."""
    cap = running_jobs_cap(session, tenant_id, settings)
    if cap <= 0:
        return
    if lock and session.get_bind().dialect.name == "postgresql":
        session.execute(select(Tenant.id).where(Tenant.id == tenant_id).with_for_update())
    active = repo.count_active_jobs(session, tenant_id)
    if active >= cap:
        raise RateLimited(
            f"this tenant has {active} unfinished jobs (limit {cap}); submit more when some have finished",
            retry_after=max(5, settings.poll_after_s * 5),
        )
