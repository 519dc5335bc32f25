"""The provenance stage against media signed at test time with c2pa-python's Builder and a
certificate chain made with `cryptography`: real signatures, real hard bindings, real c2pa-rs
validation. Nothing is stubbed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shared.config import Settings
from shared.media.sniff import JPEG, MP4, WEBM, MediaType
from shared.provenance import read_provenance
from shared.provenance.reader import ai_declaration, summarise
from tests.support.c2pa_signing import SigningCA, flip_media_byte, make_ca, sign_media


@pytest.fixture(scope="module")
def ca() -> SigningCA:
    return make_ca()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from shared.media.samples import make_clip, write_image

    d = tmp_path_factory.mktemp("c2pa-media")
    return {
        "jpg": write_image(d / "hopper.jpg", "grace_hopper"),
        "mp4": make_clip(d / "astronaut.mp4", "astronaut", seconds=1, width=192, height=108, fps=10),
    }


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


TYPES: dict[str, MediaType] = {"jpg": JPEG, "mp4": MP4}


@pytest.mark.parametrize("ext", ["jpg", "mp4"])
def test_signed_ai_media_is_present_valid_ai_generated_and_untrusted_by_default(
    ext: str, ca: SigningCA, media: dict[str, Path], settings: Settings, tmp_path: Path
) -> None:
    signed = sign_media(media[ext], tmp_path / f"signed.{ext}", ca)
    doc = read_provenance(signed, TYPES[ext], settings)
    assert doc["present"] is True
    assert doc["valid"] is True, doc["validation_errors"]
    assert doc["validation_errors"] == []
    assert doc["ai_generated"] is True
    assert doc["trusted"] is False, "no trust list configured: valid but untrusted"
    assert doc["signer"] == {"issuer": ca.org, "common_name": ca.signer_cn}
    assert doc["claim_generator"] == "dfs-test-suite 1.0"
    assert doc["created_at"] == "2026-12-01T10:00:00Z"
    assert doc["actions"] == [
        {
            "action": "c2pa.created",
            "digital_source_type": "trainedAlgorithmicMedia",
            "software_agent": "DFS Test Diffusion 2.1",
            "when": "2026-12-01T10:00:00Z",
        }
    ]
    assert doc["ingredients"] == 0


@pytest.mark.parametrize(
    ("ext", "code"), [("jpg", "assertion.dataHash.mismatch"), ("mp4", "assertion.bmffHash.mismatch")]
)
def test_one_changed_byte_of_the_media_data_invalidates_the_hard_binding(
    ext: str, code: str, ca: SigningCA, media: dict[str, Path], settings: Settings, tmp_path: Path
) -> None:
    signed = sign_media(media[ext], tmp_path / f"signed.{ext}", ca)
    tampered = flip_media_byte(signed, tmp_path / f"tampered.{ext}")
    assert tampered.stat().st_size == signed.stat().st_size
    doc = read_provenance(tampered, TYPES[ext], settings)
    assert doc["present"] is True
    assert doc["valid"] is False
    assert code in [e["code"] for e in doc["validation_errors"]]
    [mismatch] = [e for e in doc["validation_errors"] if e["code"] == code]
    assert "mismatch" in mismatch["explanation"].lower() or "do not match" in mismatch["explanation"]
    # what the manifest declares is still reported, beside the failed validation
    assert doc["ai_generated"] is True and doc["signer"]["common_name"] == ca.signer_cn


@pytest.mark.parametrize("ext", ["jpg", "mp4"])
def test_media_without_a_manifest_is_not_present(
    ext: str, media: dict[str, Path], settings: Settings
) -> None:
    doc = read_provenance(media[ext], TYPES[ext], settings)
    assert doc == {
        "present": False,
        "valid": False,
        "trusted": False,
        "validation_errors": [],
        "signer": None,
        "claim_generator": None,
        "created_at": None,
        "actions": [],
        "ai_generated": None,
        "ingredients": 0,
    }


def test_a_container_c2pa_does_not_define_has_no_manifest(settings: Settings, tmp_path: Path) -> None:
    import subprocess

    webm = tmp_path / "clip.webm"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48:rate=5",
            "-t",
            "1",
            "-c:v",
            "libvpx",
            str(webm),
        ],
        check=True,
        timeout=60,
    )
    assert read_provenance(webm, WEBM, settings)["present"] is False


def test_a_trust_list_holding_the_signers_root_makes_it_trusted(
    ca: SigningCA, media: dict[str, Path], settings: Settings, tmp_path: Path
) -> None:
    signed = sign_media(media["jpg"], tmp_path / "signed.jpg", ca)
    other = make_ca(org="Some Other CA")
    bundle = tmp_path / "anchors.pem"
    bundle.write_bytes(other.root_pem + ca.root_pem)
    trusted = read_provenance(signed, JPEG, settings.model_copy(update={"provenance_trust_anchors": bundle}))
    assert (trusted["valid"], trusted["trusted"]) == (True, True)

    only_other = other.write_root(tmp_path / "other.pem")
    untrusted = read_provenance(
        signed, JPEG, settings.model_copy(update={"provenance_trust_anchors": only_other})
    )
    assert (untrusted["valid"], untrusted["trusted"]) == (True, False)


def test_an_unreadable_trust_list_is_reported_not_raised(
    ca: SigningCA, media: dict[str, Path], settings: Settings, tmp_path: Path
) -> None:
    signed = sign_media(media["jpg"], tmp_path / "signed.jpg", ca)
    missing = tmp_path / "no-such-anchors.pem"
    doc = read_provenance(signed, JPEG, settings.model_copy(update={"provenance_trust_anchors": missing}))
    assert doc["trusted"] is False and doc["valid"] is True
    assert doc["validation_errors"] == [
        {"code": "dfs.trustListUnreadable", "explanation": "the configured trust list cannot be read"}
    ]
    assert str(missing) not in str(doc), "no path of the server in a public document"


def test_a_human_capture_declaration_is_not_ai(
    ca: SigningCA, media: dict[str, Path], settings: Settings, tmp_path: Path
) -> None:
    # (A manifest that declares no source type at all cannot be signed with this c2pa-rs: a
    # c2pa.created action must carry one. ai_generated null is covered by ai_declaration below.)
    camera = sign_media(media["jpg"], tmp_path / "camera.jpg", ca, source_type="digitalCapture")
    doc = read_provenance(camera, JPEG, settings)
    assert doc["valid"] is True and doc["ai_generated"] is False


# --- hostile manifests: valid false with a readable reason, never an exception ----------------


def test_a_corrupt_manifest_is_invalid_with_a_readable_reason(
    ca: SigningCA, media: dict[str, Path], settings: Settings, tmp_path: Path
) -> None:
    data = bytearray(sign_media(media["jpg"], tmp_path / "signed.jpg", ca).read_bytes())
    at = data.find(b"c2pa")
    data[at + 40 : at + 400] = bytes(360)  # zeroes over the manifest store's boxes
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(bytes(data))
    doc = read_provenance(corrupt, JPEG, settings)
    assert (doc["present"], doc["valid"], doc["trusted"]) == (True, False, False)
    [error] = doc["validation_errors"]
    assert error["code"] == "dfs.manifestUnreadable" and error["explanation"].startswith(
        "the manifest could not"
    )


def test_a_remote_manifest_is_never_fetched(
    ca: SigningCA, media: dict[str, Path], settings: Settings, tmp_path: Path
) -> None:
    """A file may name any URL as its manifest's home: fetching it would be a request from the
    worker to wherever the uploader chose. c2pa-rs fetches by default; the stage turns it off."""
    import http.server
    import threading

    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/manifest.c2pa"
        remote = sign_media(media["jpg"], tmp_path / "remote.jpg", ca, remote_url=url)
        doc = read_provenance(remote, JPEG, settings)
    finally:
        server.shutdown()
        server.server_close()
    assert requests == [], "the reader reached the network"
    assert (doc["present"], doc["valid"]) == (True, False)
    [error] = doc["validation_errors"]
    assert error["code"] == "dfs.remoteManifestNotFetched" and url in error["explanation"]


def test_a_manifest_whose_reading_exceeds_the_time_bound_is_stopped(
    ca: SigningCA, media: dict[str, Path], settings: Settings, tmp_path: Path
) -> None:
    signed = sign_media(media["mp4"], tmp_path / "signed.mp4", ca)
    doc = read_provenance(signed, MP4, settings.model_copy(update={"provenance_timeout_s": 0.001}))
    assert (doc["present"], doc["valid"]) == (True, False)
    assert doc["validation_errors"][0]["code"] == "dfs.readerTimeout"
    assert "0.001 s" in doc["validation_errors"][0]["explanation"]


def test_the_reader_runs_under_the_memory_bound(
    ca: SigningCA, media: dict[str, Path], settings: Settings, tmp_path: Path
) -> None:
    """The child's address space is limited: a bound too small for the reader stops it, and
    that is reported, not raised. (model_copy skips the setting's floor of 128 MiB.)"""
    signed = sign_media(media["jpg"], tmp_path / "signed.jpg", ca)
    doc = read_provenance(signed, JPEG, settings.model_copy(update={"provenance_max_memory_mb": 24}))
    assert (doc["present"], doc["valid"]) == (True, False)
    assert doc["validation_errors"] == [
        {
            "code": "dfs.readerFailed",
            "explanation": "reading the manifest needed more than 24 MiB and was stopped",
        }
    ]
    assert read_provenance(signed, JPEG, settings.model_copy(update={"provenance_max_memory_mb": 128}))[
        "valid"
    ]


def test_summary_is_bounded_whatever_the_manifest_holds() -> None:
    many: list[dict[str, Any]] = [
        {"action": "c2pa.edited", "softwareAgent": "x" * 10_000, "digitalSourceType": "digitalCapture"}
    ] * 1000
    store = {
        "active_manifest": "m",
        "manifests": {"m": {"assertions": [{"label": "c2pa.actions.v2", "data": {"actions": many}}]}},
        "validation_state": "Invalid",
        "validation_status": [{"code": "x" * 5000, "explanation": "y"}] * 1000,
    }
    doc = summarise(store)
    assert len(doc["actions"]) == 32 and len(doc["validation_errors"]) == 32
    assert len(doc["actions"][0]["software_agent"]) == 300
    assert doc["valid"] is False and doc["signer"] is None and doc["ai_generated"] is False


def test_a_store_without_an_active_manifest_is_invalid() -> None:
    doc = summarise({"manifests": {}, "validation_state": "Valid"})
    assert (doc["present"], doc["valid"]) == (True, False)
    assert doc["validation_errors"][0]["code"] == "claim.missing"


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        ([], None),
        (["digitalCapture"], False),
        (["digitalCapture", "compositeWithTrainedAlgorithmicMedia"], True),
        (["http://c2pa.org/digitalsourcetype/trainedAlgorithmicMedia"], True),
        (["algorithmicMedia"], False),
    ],
)
def test_ai_declaration_comes_only_from_declared_source_types(
    types: list[str], expected: bool | None
) -> None:
    actions = [{"action": "c2pa.created", "digitalSourceType": t} for t in types] + [
        {"action": "c2pa.edited"}
    ]
    assert ai_declaration(actions) is expected
