"""Fixtures shared by the checks of the built book and of the notebooks in JupyterLab."""

import pytest

from .chromium import launch


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (skipped, or failed in CI, where there is none; see chromium.py)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        yield browser
        browser.close()
