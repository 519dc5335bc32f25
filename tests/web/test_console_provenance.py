"""The job page's Content Credentials panel, in a real headless Chromium against the real API
and workers: media signed at test time is uploaded through the page like a fact-checker would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.browser import Browser
from tests.support.c2pa_signing import flip_media_byte, make_ca, sign_media
from tests.support.services import Stack
from tests.web.test_console import upload_through_the_page

pytestmark = pytest.mark.slow


@pytest.fixture
def page(browser: Browser) -> Iterator[Browser]:
    """The browser at desktop size; no error may reach its console."""
    browser.set_size(1280, 900)
    yield browser
    errors = [e for e in browser.console_errors() if "favicon" not in e]
    assert errors == [], errors


def analyse_through_the_page(page: Browser, stack: Stack, path: Path) -> str:
    upload_through_the_page(page, stack, path)
    page.find("#start-upload").click()
    page.wait_for(lambda: "#/jobs/" in page.driver.current_url, 30, "the job page")
    page.wait("#verdict-text", timeout=180)
    return page.driver.current_url.rsplit("/", 1)[-1]


def test_the_panel_shows_signer_tool_ai_declaration_and_validation_beside_the_verdict(
    page: Browser, stack: Stack, client: httpx.Client, face_image: Path, tmp_path: Path
) -> None:
    ca = make_ca()
    signed = sign_media(face_image, tmp_path / "generated.jpg", ca)
    job_id = analyse_through_the_page(page, stack, signed)
    panel = page.wait("#provenance")
    prov = client.get(f"/v1/jobs/{job_id}").json()["provenance"]
    assert (prov["valid"], prov["ai_generated"]) == (True, True)
    assert panel.get_attribute("data-state") == "valid"
    text = page.text("#provenance")
    assert "Valid Content Credentials, signer not on the trust list" in text
    assert ca.signer_cn in text and ca.org in text
    assert (
        "dfs-test-suite 1.0" in text
        and "c2pa.created · trainedAlgorithmicMedia · DFS Test Diffusion 2.1" in text
    )
    assert page.find("#provenance-ai").get_attribute("data-ai") == "true"
    assert "declares this media AI-generated" in page.text("#provenance-ai")
    sections = page.js("return [...document.querySelectorAll('#job-body > section')].map(s => s.id)")
    assert sections[:2] == ["verdict", "provenance"], "the panel sits beside the model's verdict"
    assert page.find("#verdict-text").get_attribute("data-verdict") in ("fake", "real", "no_face")
    assert page.audit() == []
    page.screenshot("job-provenance", full_page=True, docs=True)


def test_a_manifest_that_fails_validation_is_shown_as_such(
    page: Browser, stack: Stack, face_image: Path, tmp_path: Path
) -> None:
    tampered = flip_media_byte(
        sign_media(face_image, tmp_path / "signed.jpg", make_ca()), tmp_path / "edited.jpg"
    )
    analyse_through_the_page(page, stack, tampered)
    panel = page.wait("#provenance")
    assert panel.get_attribute("data-state") == "invalid"
    assert "Content Credentials failed validation" in page.text("#provenance-state")
    errors = page.text("#provenance-errors")
    assert "assertion.dataHash.mismatch" in errors and "Hashes do not match" in errors
    assert page.audit() == []


def test_media_without_credentials_says_so_without_suggesting_anything(
    page: Browser, stack: Stack, face_image: Path
) -> None:
    analyse_through_the_page(page, stack, face_image)
    panel = page.wait("#provenance")
    assert panel.get_attribute("data-state") == "absent"
    assert "No Content Credentials" in page.text("#provenance")
    assert "says nothing about whether the media is real" in page.text("#provenance")
    assert page.find_all("#provenance-ai") == []
