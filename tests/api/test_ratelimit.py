"""The token bucket on a real Redis; skipped with a log line on the filesystem broker."""

from __future__ import annotations

import logging
import os
import time
import uuid

import pytest

from shared.access.ratelimit import RateLimiter
from shared.config import Settings
from shared.errors import RateLimited
from tests.support.services import redis_url


def test_bucket_allows_the_burst_then_answers_with_retry_after() -> None:
    db = int(os.environ.get("DFS_TEST_REDIS_DB", "15"))
    limiter = RateLimiter(Settings(broker_url=redis_url(db), rate_limit_per_minute=60, rate_limit_burst=2))
    assert limiter.enabled
    bucket = f"test:{uuid.uuid4()}"
    limiter.hit(bucket)
    limiter.hit(bucket)
    with pytest.raises(RateLimited) as err:
        limiter.hit(bucket)
    assert err.value.status == 429 and err.value.extra["retry_after"] == 1
    limiter.hit(f"test:{uuid.uuid4()}")  # another key has its own bucket
    time.sleep(1.05)
    limiter.hit(bucket)  # one token refilled after a second
    limiter.hit(bucket, per_minute=0)  # a key with no limit


def test_filesystem_broker_skips_rate_limiting_with_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="shared.access.ratelimit"):
        limiter = RateLimiter(Settings(broker_url=None))
    assert not limiter.enabled
    assert "rate limiting is off" in caplog.text and "not Redis" in caplog.text
    for _ in range(500):
        limiter.hit("anything", per_minute=1, burst=1)


def test_an_unreachable_redis_lets_requests_through(caplog: pytest.LogCaptureFixture) -> None:
    from tests.support.services import free_port

    limiter = RateLimiter(Settings(broker_url=f"redis://127.0.0.1:{free_port()}/0"))
    with caplog.at_level(logging.WARNING, logger="shared.access.ratelimit"):
        limiter.hit("k")
    assert "let through" in caplog.text
