"""The wait helpers every service test leans on: they must fail when the condition does."""

from __future__ import annotations

import time

import pytest

from tests.support.wait import stays_true, wait_until


def test_wait_until_returns_the_first_truthy_value_without_waiting_out_the_timeout() -> None:
    calls = iter([None, 0, [], "ready"])
    started = time.monotonic()
    assert wait_until(lambda: next(calls), timeout=5, what="readiness", poll_s=0.01) == "ready"
    assert time.monotonic() - started < 1


def test_wait_until_fails_at_the_deadline_naming_what_and_the_detail() -> None:
    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"waiting for the thing; last value: 0\nlogs here"):
        wait_until(lambda: 0, timeout=0.3, what="the thing", poll_s=0.05, detail=lambda: "logs here")
    assert 0.3 <= time.monotonic() - started < 2


def test_stays_true_watches_the_whole_window() -> None:
    checks = []
    started = time.monotonic()
    stays_true(lambda: checks.append(1) or True, for_s=0.3, what="calm", poll_s=0.05)
    assert time.monotonic() - started >= 0.3
    assert len(checks) >= 4


def test_stays_true_fails_as_soon_as_the_condition_breaks() -> None:
    deadline = time.monotonic() + 0.2
    started = time.monotonic()
    with pytest.raises(AssertionError, match="no retry stopped holding"):
        stays_true(lambda: time.monotonic() < deadline, for_s=10, what="no retry", poll_s=0.02)
    assert time.monotonic() - started < 2, "it must not sit out the whole window once broken"
