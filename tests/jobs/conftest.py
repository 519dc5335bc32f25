"""The job domain on the embedded defaults: SQLite, the local object folder, the filesystem
broker, all real, in a fresh data folder per test."""

from __future__ import annotations

from typing import Any

import pytest

from shared.db import SessionScope, scope_for
from shared.pipeline import media_result
from shared.storage import ObjectStore, get_store
from shared.types import SegmentResult

MODEL = {"name": "m", "version": "1", "sha256": "a" * 64}
#: The result document of a completed one-segment job, as the aggregator writes it.
RESULT = media_result([SegmentResult(0, 0.0, 2.0, 4, probability=0.2, faces_scored=1)], MODEL)


@pytest.fixture
def sessions(embedded_settings: Any) -> SessionScope:
    return scope_for(embedded_settings)


@pytest.fixture
def store(embedded_settings: Any) -> ObjectStore:
    return get_store(embedded_settings)
