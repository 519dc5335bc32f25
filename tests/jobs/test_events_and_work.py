"""A job's terminal event is recorded once; the aggregator finishes a job once."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from shared.db import SessionScope, repo
from shared.jobs.events import record_finished
from shared.jobs.work import Next, aggregate_job
from shared.types import ScoredFace
from shared.webhooks.delivery import deliveries_of
from tests.jobs.conftest import MODEL, RESULT
from tests.support.seed import add_job


def test_the_terminal_event_is_recorded_once(embedded_settings: Any, sessions: SessionScope) -> None:
    job_id = add_job(sessions, status="completed", result=RESULT, callback_url="https://hooks.example/x")
    first = record_finished(job_id, embedded_settings, sessions)
    assert first is not None
    assert record_finished(job_id, embedded_settings, sessions) == first
    with sessions() as s:
        [delivery] = deliveries_of(s, job_id)
        assert (delivery.id, delivery.event_type, delivery.url) == (
            first,
            "job.completed",
            "https://hooks.example/x",
        )


def test_nothing_is_recorded_without_a_callback_or_a_job(
    embedded_settings: Any, sessions: SessionScope
) -> None:
    job_id = add_job(sessions, status="failed", error={"title": "x"})
    assert record_finished(job_id, embedded_settings, sessions) is None
    assert record_finished("01HZZZZZZZZZZZZZZZZZZZZZZZ", embedded_settings, sessions) is None
    with sessions() as s:
        assert deliveries_of(s, job_id) == []


def finish_segment(sessions: SessionScope, job_id: str, index: int, probabilities: list[float]) -> None:
    faces = [
        ScoredFace(i, 0, 0.1 * i, (0, 0, 10, 10), 0.9, p, np.zeros((2, 2)))
        for i, p in enumerate(probabilities)
    ]
    mean = float(np.mean(probabilities)) if probabilities else None
    with sessions() as s:
        repo.record_segment_result(
            s,
            job_id,
            index,
            probability=mean,
            frames_sampled=4,
            faces=faces,
            timings={},
            model=MODEL,
            worker="w",
        )


def test_aggregate_finishes_the_job_once_all_segments_are_done(
    embedded_settings: Any, sessions: SessionScope
) -> None:
    job_id = add_job(sessions, status="processing", segments=3)
    finish_segment(sessions, job_id, 0, [0.2, 0.4])
    finish_segment(sessions, job_id, 1, [])
    assert aggregate_job(job_id, embedded_settings, sessions) == Next(), "a segment is still pending"
    finish_segment(sessions, job_id, 2, [0.9])

    assert aggregate_job(job_id, embedded_settings, sessions) == Next(finished=[job_id])
    with sessions() as s:
        job = repo.get_job(s, job_id)
        assert job.status == "completed" and job.segments_done == 3
        assert job.result is not None
        assert job.result["probability"] == pytest.approx(0.6), "mean of the segments with a face"
        assert job.result["faces_scored"] == 3
        assert [seg["probability"] for seg in job.result["segments"]] == [
            pytest.approx(0.3),
            None,
            pytest.approx(0.9),
        ]
    assert aggregate_job(job_id, embedded_settings, sessions) == Next(), (
        "a redelivered aggregate announces nothing"
    )


def test_aggregate_of_a_cancelled_job_does_nothing(embedded_settings: Any, sessions: SessionScope) -> None:
    job_id = add_job(sessions, status="processing", segments=1)
    finish_segment(sessions, job_id, 0, [0.5])
    with sessions() as s:
        repo.cancel_job(s, job_id)
    assert aggregate_job(job_id, embedded_settings, sessions) == Next()
    with sessions() as s:
        assert repo.get_job(s, job_id).result is None


def test_aggregate_applies_the_cards_aggregation_to_every_face_per_member(
    embedded_settings: Any, sessions: SessionScope
) -> None:
    """A `confident` model (the DFDC winner's rule): the aggregator reads every face of the job
    with its members' probabilities and applies the rule per member, then averages; the result
    names the aggregation. 12 of 16 faces confidently fake under member A, none under B."""
    from shared.pipeline.aggregate import confident_strategy

    a = [0.95] * 12 + [0.5] * 4
    b = [0.1] * 15 + [0.3]
    job_id = add_job(sessions, status="processing", segments=2)
    model = MODEL | {"aggregation": "confident"}
    for index, part in ((0, range(0, 10)), (1, range(10, 16))):
        faces = [
            ScoredFace(i, 0, 0.1 * i, (0, 0, 10, 10), 0.9, (a[i] + b[i]) / 2, None, None, (a[i], b[i]))
            for i in part
        ]
        with sessions() as s:
            repo.record_segment_result(
                s,
                job_id,
                index,
                probability=0.5,
                frames_sampled=10,
                faces=faces,
                timings={},
                model=model,
                worker="w",
            )
    assert aggregate_job(job_id, embedded_settings, sessions) == Next(finished=[job_id])
    with sessions() as s:
        result = repo.get_job(s, job_id).result
    assert result is not None and result["aggregation"] == "confident"
    expected = (confident_strategy(a) + confident_strategy(b)) / 2
    assert expected == pytest.approx((0.95 + (0.1 * 15 / 15)) / 2), "A: mean of its fakes, B: of its reals"
    assert result["probability"] == pytest.approx(expected)


def test_a_mean_model_result_names_its_aggregation(embedded_settings: Any, sessions: SessionScope) -> None:
    job_id = add_job(sessions, status="processing", segments=1)
    finish_segment(sessions, job_id, 0, [0.2, 0.4])
    aggregate_job(job_id, embedded_settings, sessions)
    with sessions() as s:
        result = repo.get_job(s, job_id).result
    assert (
        result is not None and result["aggregation"] == "mean" and result["probability"] == pytest.approx(0.3)
    )
