"""Checkpoints load from a path or an s3:// URI, and their identity is the file's sha256."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from minio import Minio

from shared.errors import ModelError
from shared.model.checkpoint import load_checkpoint
from tests.support.services import S3Gateway


def test_load_from_s3_uri_is_cached_and_identified_by_sha256(
    s3_gateway: S3Gateway, untrained_checkpoint: Path, tmp_path: Path
) -> None:
    from shared.config import Settings

    client = Minio(s3_gateway.endpoint, s3_gateway.access_key, s3_gateway.secret_key, secure=False)
    if not client.bucket_exists("models"):
        client.make_bucket("models")
    client.fput_object("models", "b0/untrained.safetensors", str(untrained_checkpoint))
    settings = Settings(
        data_dir=tmp_path,
        s3_endpoint=s3_gateway.endpoint,
        s3_access_key=s3_gateway.access_key,
        s3_secret_key=s3_gateway.secret_key,
    )
    loaded = load_checkpoint("s3://models/b0/untrained.safetensors", settings)
    assert loaded.identity.version == "untrained"
    assert loaded.identity.sha256 == hashlib.sha256(untrained_checkpoint.read_bytes()).hexdigest()
    assert loaded.path.is_relative_to(settings.resolved_model_cache_dir)
    with pytest.raises(ModelError, match="cannot be read"):
        load_checkpoint("s3://models/missing.safetensors", settings)
    with pytest.raises(ModelError, match="s3://bucket/key"):
        load_checkpoint("s3://models", settings)


def test_corrupt_weights_are_refused_with_a_clear_error(untrained_checkpoint: Path, tmp_path: Path) -> None:
    data = bytearray(untrained_checkpoint.read_bytes())
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(ModelError):
        load_checkpoint(str(broken))
