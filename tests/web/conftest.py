"""A real headless Chromium (Debian's chromium + chromedriver) driven by Selenium.

Screenshots are always taken (into the test's temporary folder); with
DFS_CONSOLE_SCREENSHOTS=1 they are also written, small, to docs/img/ for docs/console.md.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import Browser, start_browser

CHROMIUM = os.environ.get("DFS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("DFS_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not Path(binary).is_file():
            pytest.fail(
                f"{binary} is missing: apt-get install chromium chromium-driver (scripts/install.sh does it)"
            )
    profile = Path(tempfile.mkdtemp(prefix="dfs-chromium-"))
    b = start_browser(CHROMIUM, CHROMEDRIVER, profile, tmp_path_factory.mktemp("screenshots"))
    try:
        yield b
    finally:
        b.quit()
        shutil.rmtree(profile, ignore_errors=True)
