"""The console's live page in a real headless Chromium, against the real API and workers: a
person starts watching a stream, sees the timeline grow and the rolling gauge move as segments
are scored (server-sent events read with the API key's fetch), the alert highlighted, and stops
the stream with the button."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.browser import Browser
from tests.support.services import Stack
from tests.support.streams import Publisher
from tests.support.wait import wait_until

pytestmark = pytest.mark.slow


def status_shown(page: Browser) -> str | None:
    """The status badge's value, read in the page (the badge is replaced as events arrive)."""
    return page.js(
        "const b = document.querySelector('.stream-status [data-status]'); return b && b.dataset.status"
    )  # type: ignore[no-any-return]


@pytest.fixture
def page(browser: Browser) -> Browser:
    browser.set_size(1280, 900)
    return browser


def test_live_page_grows_with_the_stream_and_stops_it(
    page: Browser, live_stack: Stack, stream_clip: Path
) -> None:
    publisher = Publisher(stream_clip, loops=30)  # two minutes: it is still live when stopped
    api = httpx.Client(base_url=live_stack.api_url, timeout=30)
    try:
        page.open(live_stack.api_url + "/#/streams")
        page.wait("form.stream-form")
        assert page.audit() == []
        page.find("input[name=url]").send_keys("file:///etc/passwd")
        page.find("form.stream-form button[type=submit]").click()
        page.wait_for(lambda: "not allowed" in page.text("form.stream-form .error"), what="the refusal")

        page.find("input[name=url]").clear()
        page.find("input[name=url]").send_keys(publisher.url)
        page.find("input[name=segment_seconds]").clear()
        page.find("input[name=segment_seconds]").send_keys("2")
        page.find("form.stream-form button[type=submit]").click()
        page.wait_for(lambda: "#/streams/" in page.driver.current_url, 30, "the live page")
        stream_id = page.driver.current_url.rsplit("/", 1)[-1]
        assert api.get(f"/v1/streams/{stream_id}").json()["url"] == publisher.url

        page.wait(".timeline .segment", timeout=240)
        page.wait_for(lambda: len(page.find_all(".timeline .segment")) >= 2, 120, "a second segment")
        labels = [e.get_attribute("data-index") for e in page.find_all(".timeline .segment")]
        assert labels == [str(i) for i in range(len(labels))]
        meter = page.find(".gauge")
        assert 0 <= int(meter.get_attribute("aria-valuenow") or -1) <= 100
        assert "last" in page.text(".gauge-text") and "threshold" in page.text(".gauge-text")
        assert status_shown(page) == "live"
        assert page.audit() == []
        page.screenshot("stream-live")

        page.find(".button-danger").click()
        page.wait_for(
            lambda: status_shown(page) == "stopped",
            120,
            "the stream to stop",
        )
        doc = api.get(f"/v1/streams/{stream_id}").json()
        assert doc["status"] == "stopped"
        assert len(page.find_all(".timeline .segment")) == doc["segments_done"]  # every scored segment shown
        assert not page.find(".button-danger").is_displayed()
        errors = [e for e in page.console_errors() if "favicon" not in e]
        assert all("the server responded with a status of 4" in e for e in errors), errors
    finally:
        publisher.stop()
        api.close()
    wait_until(lambda: publisher.proc.poll() is not None, 10, "the publisher to stop")


def test_alerts_are_highlighted_on_the_timeline(page: Browser, live_stack: Stack, stream_clip: Path) -> None:
    publisher = Publisher(stream_clip, loops=0)  # 4 s, then it ends
    api = httpx.Client(base_url=live_stack.api_url, timeout=30)
    try:
        created = api.post(
            "/v1/streams", json={"url": publisher.url, "segment_seconds": 2, "alert_threshold": 0.0}
        ).json()
        page.open(f"{live_stack.api_url}/#/streams/{created['id']}")
        page.wait(".alerts .alert-item", timeout=240)
        page.wait_for(
            lambda: status_shown(page) == "ended",
            120,
            "the stream to end",
        )
        assert len(page.find_all(".alerts .alert-item")) == 1
        alerted = page.find_all(".timeline .segment-alert")
        assert [e.get_attribute("data-index") for e in alerted] == ["0"]
        assert "Alert at" in page.text(".alerts")
        assert page.audit() == []
    finally:
        publisher.stop()
        api.close()
