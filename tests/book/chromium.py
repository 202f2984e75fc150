"""Where the browser checks find Chromium, and how they start it (shared by the book and JupyterLab checks).

``CNNCOURSE_CHROMIUM`` names the browser binary (GitHub's runners have Google
Chrome); otherwise Debian's ``chromium``. Without one the checks are skipped
with the reason, unless ``CNNCOURSE_REQUIRE_BROWSER=1`` (set by .ci/run)
turns that into a failure. Playwright drives it; it never downloads a browser.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CNNCOURSE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]


def unavailable(reason):
    """Skip with ``reason``, or fail where a browser is required (CI)."""
    if os.environ.get("CNNCOURSE_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def launch(playwright):
    if not Path(CHROMIUM).is_file():
        unavailable(f"no browser at {CHROMIUM} (Debian: apt-get install chromium, or set CNNCOURSE_CHROMIUM); .ci/run installs it")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
