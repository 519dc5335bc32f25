"""`deepfakestream provenance FILE [--json]` and the provenance `analyze` reports, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_analyze import run_cli
from tests.support.c2pa_signing import SigningCA, flip_media_byte, make_ca, sign_media


@pytest.fixture(scope="module")
def ca() -> SigningCA:
    return make_ca()


def test_json_of_signed_ai_media_and_trust_from_the_setting(
    ca: SigningCA, face_image: Path, tmp_path: Path
) -> None:
    signed = sign_media(face_image, tmp_path / "generated.jpg", ca)
    r = run_cli("provenance", str(signed), "--json", tmp=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert (doc["present"], doc["valid"], doc["trusted"], doc["ai_generated"]) == (True, True, False, True)

    anchors = ca.write_root(tmp_path / "anchors.pem")
    r = run_cli(
        "provenance",
        str(signed),
        "--json",
        tmp=tmp_path,
        env_extra={"DFS_PROVENANCE_TRUST_ANCHORS": str(anchors)},
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["trusted"] is True


def test_text_report_of_valid_tampered_and_absent_credentials(
    ca: SigningCA, face_image: Path, tmp_path: Path
) -> None:
    signed = sign_media(face_image, tmp_path / "generated.jpg", ca)
    r = run_cli("provenance", str(signed), tmp=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:2] == [
        "generated.jpg:",
        "  provenance: Content Credentials present, valid, signer not on the trust list",
    ]
    assert f"signer: {ca.signer_cn} ({ca.org})" in r.stdout
    assert "AI: AI-generated (declared by the manifest)" in r.stdout
    assert "action: c2pa.created (trainedAlgorithmicMedia, DFS Test Diffusion 2.1)" in r.stdout

    tampered = flip_media_byte(signed, tmp_path / "tampered.jpg")
    r = run_cli("provenance", str(tampered), tmp=tmp_path)
    assert r.returncode == 0, "an invalid manifest is a finding, not a failure of the command"
    assert "present, INVALID" in r.stdout
    assert "validation error: assertion.dataHash.mismatch: " in r.stdout

    r = run_cli("provenance", str(face_image), tmp=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "no Content Credentials" in r.stdout


@pytest.mark.parametrize(
    ("fixture", "code", "message"),
    [("text_file", 3, "error: unsupported media type: "), (None, 6, "error: not found: ")],
)
def test_bad_input_is_one_readable_line(
    request: pytest.FixtureRequest, fixture: str | None, code: int, message: str, tmp_path: Path
) -> None:
    path = request.getfixturevalue(fixture) if fixture else tmp_path / "missing.jpg"
    r = run_cli("provenance", str(path), tmp=tmp_path)
    assert r.returncode == code
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(message), r.stderr
    assert r.stdout == ""


def test_analyze_reports_provenance_beside_the_models_verdict(
    ca: SigningCA, face_image: Path, untrained_checkpoint: Path, tmp_path: Path
) -> None:
    signed = sign_media(face_image, tmp_path / "generated.jpg", ca)
    env = {"DFS_CHECKPOINT": str(untrained_checkpoint)}
    r = run_cli("analyze", str(signed), "--json", tmp=tmp_path, env_extra=env)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["result"]["verdict"] in ("fake", "real", "no_face")
    assert (doc["provenance"]["valid"], doc["provenance"]["ai_generated"]) == (True, True)
    assert doc["timings"]["provenance_s"] >= 0

    r = run_cli("analyze", str(signed), tmp=tmp_path, env_extra=env)
    assert r.returncode == 0, r.stderr
    assert "  provenance: Content Credentials present, valid, signer not on the trust list" in r.stdout
