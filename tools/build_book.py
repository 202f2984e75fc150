"""Build the book from notebooks that were already executed (``make test``).

``make book`` executes every notebook while it builds, as a reader or the
published build needs. ``make test`` has just executed every notebook under
nbval (quick profile, simulated CUDA), and running them all again would
double the time. So ``make test`` builds the book from the notebooks nbval
kept (``tests/book/executed_notebooks.py`` writes them to
``_build/executed/``): this script copies the book's sources into
``_build/staged/``, puts the executed notebooks in place of the stripped
ones, switches execution off and runs Jupyter Book there; the HTML lands in
``_build/html`` as with ``make book``.

A notebook without an executed copy, or whose executed copy's code differs
from the source (it changed after nbval ran), stops the build with its name:
a failing cell still fails ``make test``, and nothing stale is published.

    python tools/build_book.py --executed _build/executed
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
STAGED = ROOT / "_build" / "staged"
SOURCES = ("book", "_toc.yml")


def toc_notebooks() -> list[Path]:
    """The notebooks the book shows, from _toc.yml."""
    sys.path.insert(0, str(ROOT))
    from tests.book.toc import toc_pages

    return [ROOT / f"{page}.ipynb" for page in toc_pages() if (ROOT / f"{page}.ipynb").is_file()]


def code_of(nb) -> list[str]:
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


def stage(executed: Path, staged: Path = STAGED) -> list[str]:
    """Fill ``staged``; return the problems (missing or stale executed notebooks)."""
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    for name in SOURCES:
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, staged / name)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"
    (staged / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    problems = []
    for path in toc_notebooks():
        relative = path.relative_to(ROOT)
        done = executed / relative
        if not done.is_file():
            problems.append(f"{relative}: no executed copy in {executed} (did a cell fail in `make nbval`?)")
            continue
        if code_of(nbformat.read(done, as_version=4)) != code_of(nbformat.read(path, as_version=4)):
            problems.append(f"{relative}: changed since `make nbval` executed it; run `make nbval` again")
            continue
        (staged / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(done, staged / relative)
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executed", type=Path, required=True, help="folder of executed notebooks (_build/executed)")
    args = parser.parse_args(argv)
    problems = stage(args.executed.resolve())
    if problems:
        print("cannot build the book from executed notebooks:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", str(STAGED), "--path-output", str(ROOT), "-W", "--keep-going"]
    return subprocess.call(command, cwd=ROOT, env={**os.environ, "TQDM_DISABLE": "1"})


if __name__ == "__main__":
    sys.exit(main())
