"""The notebooks as a student sees them: a real JupyterLab, driven in Chromium.

The book renders MyST; JupyterLab and Colab render plain Markdown. This check
serves the repository with the pinned JupyterLab, opens every chapter the
way a student does, and looks at the rendered page: no raw directive or role
markup, exercises shown with a collapsed solution, citations as text. It
then runs every cell of one short chapter through the menu (Run > Run All
Cells) and expects no error output, proving the kernel round trip.

``make lab-check`` runs it (needs Chromium, see ``chromium.py``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
RUN_ALL = "pooling"  # a short chapter: every cell is run in the kernel
RAW_MARKUP = re.compile(r"\{(cite|ref|numref|exercise|solution|literalinclude)[:}]|```\{|^:(label|class|pyobject):", re.M)
SETTINGS = {
    # every cell in the DOM, so the whole notebook can be read without scrolling
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # no requests to the internet (news, update checks)
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on loopback, rooted at the repository; yields (base url, token)."""
    settings = tmp_path_factory.mktemp("lab-settings")
    for name, values in SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    port, token = _free_port(), secrets.token_hex(16)
    log = open(tmp_path_factory.mktemp("lab-log") / "lab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}", "--LabApp.extension_manager=readonly",
         f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={settings / 'workspaces'}",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "CNNCOURSE_PROFILE": "quick", "TQDM_DISABLE": "1", "JUPYTER_RUNTIME_DIR": str(settings / "runtime")},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=1)
                break
            except OSError:
                assert server.poll() is None, f"JupyterLab exited: {Path(log.name).read_text()[-2000:]}"
                time.sleep(0.5)
        else:
            pytest.fail(f"JupyterLab did not start in 60 s: {Path(log.name).read_text()[-2000:]}")
        yield base, token
    finally:
        server.terminate()
        server.wait(30)
        log.close()


def _shutdown_kernels(base, token):
    request = urllib.request.Request(f"{base}/api/sessions?token={token}")
    for session in json.loads(urllib.request.urlopen(request).read()):
        urllib.request.urlopen(urllib.request.Request(
            f"{base}/api/sessions/{session['id']}?token={token}", method="DELETE"))


def _open(browser, base, token, path):
    """Open one notebook in a fresh workspace (``reset``: JupyterLab would otherwise reopen, and
    start kernels for, every notebook an earlier page had open)."""
    _shutdown_kernels(base, token)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{base}/lab/tree/{path.relative_to(ROOT)}?reset&token={token}")
    markdown_cells = sum(c["cell_type"] == "markdown" for c in json.loads(path.read_text())["cells"])
    page.wait_for_function(  # every Markdown cell rendered (not just its empty container)
        "n => Array.from(document.querySelectorAll('.jp-Notebook .jp-MarkdownOutput'))"
        ".filter(e => e.textContent.trim().length > 0).length >= n", arg=markdown_cells, timeout=60_000)
    return page


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_renders_without_raw_markup(lab, browser, path):
    base, token = lab
    page = _open(browser, base, token, path)
    try:
        text = "\n".join(page.locator(".jp-Notebook .jp-MarkdownOutput").all_inner_texts())
        raw = sorted({m.group(0) for m in RAW_MARKUP.finditer(text)})
        assert not raw, f"raw MyST markup on the page: {raw}"
        assert page.locator(".jp-MarkdownOutput h1").first.inner_text().strip(), "no title rendered"
        exercises = page.locator(".jp-MarkdownOutput h3", has_text="Exercise:").count()
        solutions = page.locator(".jp-MarkdownOutput details summary", has_text="Solution")
        assert exercises > 0 and solutions.count() == exercises, "each exercise needs a collapsed solution"
        assert not page.locator(".jp-MarkdownOutput details[open]").count(), "solutions start collapsed"
        assert page.locator(".jp-MarkdownOutput a[href^='#cite-']").count() > 0, "citations render as links"
    finally:
        page.close()
        _shutdown_kernels(base, token)


def test_a_chapter_runs_all_cells_in_the_kernel_without_errors(lab, browser):
    base, token = lab
    path = ROOT / "notebooks" / f"{RUN_ALL}.ipynb"
    page = _open(browser, base, token, path)
    try:
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
        # JupyterLab starts the session under a temporary name and renames it to the notebook's path
        expected, deadline = [str(path.relative_to(ROOT))], time.monotonic() + 30
        while True:
            sessions = json.loads(urllib.request.urlopen(f"{base}/api/sessions?token={token}").read())
            if [s["path"] for s in sessions] == expected or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert [s["path"] for s in sessions] == expected, f"only this notebook's kernel runs: {sessions}"
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        code_cells = sum(c["cell_type"] == "code" for c in json.loads(path.read_text())["cells"])
        page.wait_for_function(  # every cell numbered, or an error shown (Run All stops there)
            "n => Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'))"
            ".filter(p => /\\[\\d+\\]/.test(p.textContent)).length >= n"
            " || Array.from(document.querySelectorAll('.jp-OutputArea'))"
            ".some(e => e.textContent.includes('Traceback'))",
            arg=code_cells, timeout=240_000)
        outputs = "\n".join(page.locator(".jp-OutputArea-output").all_inner_texts())
        assert "Traceback" not in outputs, outputs[-3000:]
        assert "profile: quick" in outputs and page.locator(".jp-OutputArea-output img").count() > 0
    finally:
        page.close()
        _shutdown_kernels(base, token)
