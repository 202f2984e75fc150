"""Serve MathJax from the built book itself, so math renders offline.

Sphinx loads MathJax from a CDN by default; the course must read (and be
tested) without a network. jupyter-server-mathjax, a Jupyter project package,
ships MathJax 2.7; we copy it into ``_static/mathjax`` and point Sphinx at it.
"""

import shutil
from pathlib import Path

import jupyter_server_mathjax

SOURCE = Path(jupyter_server_mathjax.__file__).parent / "static"


def _copy(app, exception):
    if exception is None and app.builder.format == "html":
        shutil.copytree(SOURCE, Path(app.outdir) / "_static" / "mathjax", dirs_exist_ok=True)


def setup(app):
    app.config.mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
    # The package ships only the STIX web fonts: use them and look for no other.
    app.config.mathjax2_config = {
        "HTML-CSS": {"availableFonts": [], "preferredFont": None, "webFont": "STIX-Web", "imageFont": None},
        "messageStyle": "none",
    }
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
