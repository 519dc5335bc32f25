"""Follow-ups of persisted work survive a dropped database connection (found by the fault drill
that terminates Postgres backends: the aggregate task completed the job, the connection died
while the job.completed delivery row was being written, and the webhook was never sent)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

import services.worker.shell as shell
from shared.jobs.work import Next


def _task() -> Any:
    return SimpleNamespace(name="dfs.aggregate", request=SimpleNamespace(retries=0))


def _dropped() -> OperationalError:
    return OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))


def test_a_dropped_connection_while_announcing_is_retried_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def flaky(tasks: Any, finished: Any, settings: Any) -> None:
        calls.append(list(finished))
        if len(calls) < 3:
            raise _dropped()

    monkeypatch.setattr(shell, "dispatch", flaky)
    monkeypatch.setattr(shell, "DISPATCH_BACKOFF_S", (0.0,) * 5)
    outcome = shell.run_job_task(_task(), "J1", lambda: Next(finished=["J1"]))
    assert calls == [["J1"]] * 3, "announced again until it was recorded"
    assert outcome.finished == ["J1"]


def test_a_real_bug_in_announcing_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def broken(tasks: Any, finished: Any, settings: Any) -> None:
        calls.append(1)
        raise KeyError("bug")

    monkeypatch.setattr(shell, "dispatch", broken)
    with pytest.raises(KeyError):
        shell.run_job_task(_task(), "J1", lambda: Next(finished=["J1"]))
    assert len(calls) == 1


def test_a_database_that_stays_down_still_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def down(tasks: Any, finished: Any, settings: Any) -> None:
        raise _dropped()

    monkeypatch.setattr(shell, "dispatch", down)
    monkeypatch.setattr(shell, "DISPATCH_BACKOFF_S", (0.0,) * 5)
    with pytest.raises(OperationalError):
        shell.run_job_task(_task(), "J1", lambda: Next(finished=["J1"]))
