"""Serve MathJax from the built book itself, so math renders offline.

Sphinx loads MathJax 3 from a CDN by default; the course must read (and be
tested) without a network. The PyPI package django-static-mathjax ships the
official MathJax 3 distribution (it needs no Django to be installed); we copy
its browser build into ``_static/mathjax`` and point Sphinx at it.
"""

import importlib.util
import shutil
from pathlib import Path

BUNDLE = "tex-mml-chtml.js"
# What that bundle loads at run time: fonts, TeX extensions, the menu and its accessibility tools.
PARTS = ["output", "input", "ui", "a11y", "adaptors", "sre"]


def _es5() -> Path:
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("offline_mathjax: install django-static-mathjax (see requirements.txt)")
    return Path(spec.submodule_search_locations[0]) / "static" / "mathjax" / "es5"


def _copy(app, exception):
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "_static" / "mathjax"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(_es5() / BUNDLE, target / BUNDLE)
        for part in PARTS:
            shutil.copytree(_es5() / part, target / part, dirs_exist_ok=True)


def setup(app):
    _es5()  # fail at start-up, not after the whole build, when MathJax is missing
    app.config.mathjax_path = f"mathjax/{BUNDLE}"
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
