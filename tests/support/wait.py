"""Waiting in tests: poll a condition against a deadline instead of sleeping a guessed time.

`wait_until` is for "this happens": it returns as soon as the predicate holds and fails at
the deadline. `stays_true` is for "nothing happens": it keeps checking for the whole window
and fails the moment the condition breaks, so a regression shows up even when it is quick.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

POLL_S = 0.1


def wait_until(
    predicate: Callable[[], T],
    timeout: float,
    what: str,
    *,
    poll_s: float = POLL_S,
    detail: Callable[[], str] | None = None,
) -> T:
    """The predicate's first truthy value, checked every `poll_s` until `timeout` seconds
    passed; then an AssertionError naming `what` (and `detail()`, e.g. service logs)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            extra = f"\n{detail()}" if detail is not None else ""
            raise AssertionError(
                f"timed out after {timeout:g}s waiting for {what}; last value: {value!r}{extra}"
            )
        time.sleep(poll_s)


def stays_true(predicate: Callable[[], object], for_s: float, what: str, *, poll_s: float = POLL_S) -> None:
    """Check the predicate for `for_s` seconds (first and last check included); an
    AssertionError naming `what` as soon as it is false."""
    start = time.monotonic()
    end = start + for_s
    while True:
        if not predicate():
            raise AssertionError(f"{what} stopped holding after {time.monotonic() - start:.2f}s")
        now = time.monotonic()
        if now >= end:
            return
        time.sleep(min(poll_s, end - now))
