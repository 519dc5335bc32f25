"""Headless Chromium through Selenium, with the few helpers the console tests need:
waiting, network throttling, screenshots (small PNGs for the docs) and an accessibility audit."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.services import REPO_ROOT

T = TypeVar("T")

DOCS_IMG = REPO_ROOT / "docs" / "img"
DOCS_IMG_LIMIT = 300 * 1024

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--window-size=1280,900",
)

#: Runs in the page: problems a keyboard or screen-reader user, or a low-vision reader, would
#: meet. Returns a list of strings (empty = fine).
AUDIT_JS = r"""
// judge the settled page, not a colour half-way through a transition
// (through the CSSOM: the console's Content-Security-Policy rightly refuses inline styles)
if (!window.__auditNoMotion) {
  document.styleSheets[0].insertRule("*, *::before, *::after { transition: none !important; animation: none !important; }");
  window.__auditNoMotion = true;
}
document.body.getBoundingClientRect();
const problems = [];
const visible = (el) => {
  const r = el.getBoundingClientRect();
  const st = getComputedStyle(el);
  return st.visibility !== "hidden" && st.display !== "none" && (r.width > 0 || r.height > 0 || el.type === "file");
};
const name = (el) => (el.getAttribute("aria-label") || el.textContent || el.getAttribute("title") || "").trim();
for (const el of document.querySelectorAll("input, select, textarea")) {
  const labelled = (el.labels && el.labels.length) || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
  if (!labelled) problems.push(`form control without a label: ${el.outerHTML.slice(0, 120)}`);
}
for (const el of document.querySelectorAll("button, a[href]")) {
  if (visible(el) && !name(el) && !el.querySelector("img[alt]:not([alt=''])")) problems.push(`control without a name: ${el.outerHTML.slice(0, 120)}`);
}
for (const img of document.querySelectorAll("img")) {
  if (!img.hasAttribute("alt")) problems.push(`image without alt: ${img.outerHTML.slice(0, 120)}`);
}
for (const svg of document.querySelectorAll("main svg")) {
  if (svg.getAttribute("role") === "img" && !(svg.getAttribute("aria-labelledby") || svg.getAttribute("aria-label"))) problems.push("chart without a text alternative");
}
// a value that never made it into words
const leaks = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (leaks.nextNode()) {
  const text = leaks.currentNode.textContent;
  if (/^\s*(null|undefined|NaN)\s*$/.test(text) || /\[object Object\]|\bundefined\b|NaN%/.test(text)) problems.push(`raw value shown: "${text.trim().slice(0, 60)}"`);
}
const h1 = [...document.querySelectorAll("h1")].filter(visible);
if (h1.length !== 1) problems.push(`${h1.length} visible h1 headings`);
const ids = new Map();
for (const el of document.querySelectorAll("[id]")) ids.set(el.id, (ids.get(el.id) || 0) + 1);
for (const [id, n] of ids) if (n > 1) problems.push(`duplicate id ${id}`);

// contrast of every visible text node against its effective background (WCAG 2 AA)
const parse = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number); return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; };
const lum = ({ r, g, b }) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
const blend = (top, bottom) => ({ r: top.r * top.a + bottom.r * (1 - top.a), g: top.g * top.a + bottom.g * (1 - top.a), b: top.b * top.a + bottom.b * (1 - top.a), a: 1 });
const background = (el) => {
  const layers = [];
  for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; } }
  let colour = { r: 255, g: 255, b: 255, a: 1 };
  for (const layer of layers.reverse()) colour = blend(layer, colour);
  return colour;
};
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
const checked = new Set();
while (walker.nextNode()) {
  const el = walker.currentNode.parentElement;
  if (!el || checked.has(el) || !walker.currentNode.textContent.trim()) continue;
  checked.add(el);
  if (el.closest("svg, noscript, .visually-hidden, [hidden], option") || !visible(el)) continue;
  const st = getComputedStyle(el);
  if (Number(st.opacity) < 1 || el.closest(".disabled") || el.disabled) continue;
  const fg = parse(st.color);
  if (!fg) continue;
  const bg = background(el);
  const c = blend(fg, bg);
  const [l1, l2] = [lum(c), lum(bg)].sort((a, b) => b - a);
  const ratio = (l1 + 0.05) / (l2 + 0.05);
  const size = parseFloat(st.fontSize);
  const large = size >= 24 || (size >= 18.66 && Number(st.fontWeight) >= 700);
  if (ratio < (large ? 3 : 4.5)) problems.push(`contrast ${ratio.toFixed(2)} for "${walker.currentNode.textContent.trim().slice(0, 40)}" (${st.color} on rgb(${Math.round(bg.r)},${Math.round(bg.g)},${Math.round(bg.b)}))`);
}
return problems;
"""


@dataclass
class Browser:
    driver: webdriver.Chrome
    shots: Path

    def open(self, url: str) -> None:
        self.driver.get(url)

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait_for(self, condition: Callable[[], T], timeout: float = 10.0, what: str = "condition") -> T:
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(lambda _: condition())
        except TimeoutException:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what}; page: {self.driver.current_url}\n"
                f"{self.js('return document.body.innerText')[:2000]}"
            ) from None

    def wait(self, css: str, timeout: float = 10.0) -> WebElement:
        """The first element matching `css`, once there is one."""

        def first() -> WebElement | None:
            found = self.find_all(css)
            return found[0] if found else None

        element = self.wait_for(first, timeout, css)
        assert element is not None
        return element

    def text(self, css: str) -> str:
        return str(
            self.js("const e = document.querySelector(arguments[0]); return e ? e.innerText : null", css)
            or ""
        )

    def throttle_upload(self, bytes_per_s: int) -> None:
        self.driver.set_network_conditions(
            offline=False, latency=5, download_throughput=50_000_000, upload_throughput=bytes_per_s
        )

    def unthrottle(self) -> None:
        self.driver.delete_network_conditions()

    def set_size(self, width: int, height: int) -> None:
        self.driver.set_window_size(width, height)

    def audit(self) -> list[str]:
        return list(self.js(AUDIT_JS))

    def screenshot(self, name: str, *, full_page: bool = False, docs: bool = False) -> Path:
        """A PNG of the page (the whole page when full_page), written to the test's folder and,
        with DFS_CONSOLE_SCREENSHOTS=1 and docs=True, as a small palette PNG to docs/img/."""
        size = self.driver.get_window_size()
        if full_page:
            height = int(self.js("return document.documentElement.scrollHeight"))
            self.driver.set_window_size(
                size["width"], height + (size["height"] - int(self.js("return window.innerHeight")))
            )
            time.sleep(0.3)  # let ResizeObserver-driven charts redraw
        png = self.driver.get_screenshot_as_png()
        if full_page:
            self.driver.set_window_size(size["width"], size["height"])
        path = self.shots / f"{name}.png"
        path.write_bytes(png)
        if docs and os.environ.get("DFS_CONSOLE_SCREENSHOTS") == "1":
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            out = DOCS_IMG / f"{name}.png"
            out.write_bytes(small_png(png))
            assert out.stat().st_size < DOCS_IMG_LIMIT, f"{out} is {out.stat().st_size} bytes"
        return path

    def console_errors(self) -> list[str]:
        return [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    def quit(self) -> None:
        self.driver.quit()


def small_png(png: bytes, max_width: int = 1100) -> bytes:
    """Halve-ish and quantise a screenshot: UI screenshots stay sharp with 256 colours."""
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    if img.width > max_width:
        img = img.resize((max_width, round(img.height * max_width / img.width)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        out, format="PNG", optimize=True
    )
    return out.getvalue()


def start_browser(chromium: str, chromedriver: str, profile: Path, shots: Path) -> Browser:
    os.environ.setdefault("SE_AVOID_STATS", "true")  # Selenium Manager must not phone home
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=opts)
    driver.set_script_timeout(30)
    return Browser(driver=driver, shots=shots)
