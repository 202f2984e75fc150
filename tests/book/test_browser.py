"""The built book, in a real browser: every chapter page loads cleanly and renders.

Runs after ``make book`` or ``make book-executed`` (``make browser``). It
needs Chromium (see ``chromium.py``).
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from .chromium import unavailable
from .toc import toc_pages

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"


@pytest.fixture(scope="module")
def site():
    if not (HTML / "index.html").is_file():
        unavailable(f"no built book in {HTML}: run `make book` first")
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def load(browser, url):
    """Open url; return the page and every console error, page error and failed request."""
    page = browser.new_page()
    problems = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} ({r.failure})"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.goto(url, wait_until="networkidle")
    return page, problems


@pytest.mark.parametrize("doc", toc_pages())
def test_page_loads_renders_and_links(browser, site, doc):
    page, problems = load(browser, f"{site}/{doc}.html")
    try:
        assert page.title(), "page has no title"
        assert not problems, "\n".join(problems)

        # Figures: every image on the page loaded.
        broken = page.eval_on_selector_all("img", "els => els.filter(e => !(e.complete && e.naturalWidth > 0)).map(e => e.src)")
        assert not broken, f"images that did not load: {broken}"
        if doc.startswith("notebooks/"):
            assert page.locator(".cell_output img").count() > 0, "a chapter notebook shows no figure"

        # Math: MathJax typeset every formula, without errors.
        n_math = page.locator("span.math, div.math").count()
        if n_math:
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000)
            page.evaluate("() => MathJax.startup.promise")
            typeset = page.locator("span.math mjx-container, div.math mjx-container").count()
            assert typeset == n_math, f"{n_math - typeset} of {n_math} formulas were not typeset"
            assert page.locator("mjx-merror").count() == 0, "MathJax reported an error"

        # Citations: every link into the bibliography lands on an entry that exists.
        targets = page.eval_on_selector_all("a[href*='bibliography.html#']", "els => els.map(e => e.href)")
        if doc.startswith("notebooks/"):
            assert targets, "a chapter cites no paper"
        for path in {urlparse(href).path for href in targets}:
            bib, _ = load(browser, f"{site}{path}")
            ids = set(bib.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
            missing = [h for h in targets if urlparse(h).path == path and urlparse(h).fragment not in ids]
            assert not missing, f"citation targets missing: {missing}"
            bib.close()

        # Launch button: Colab opens this very notebook from the repository.
        if doc.startswith("notebooks/"):
            config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
            repo = urlparse(config["url"]).path.strip("/")
            expected = f"https://colab.research.google.com/github/{repo}/blob/{config['branch']}/{doc}.ipynb"
            hrefs = page.eval_on_selector_all("a[href*='colab.research.google.com']", "els => els.map(e => e.href)")
            assert expected in hrefs, f"Colab link {hrefs} should be {expected}"
            assert (ROOT / f"{doc}.ipynb").is_file()
    finally:
        page.close()
