"""pytest plugin for ``make nbval``: keep the notebooks nbval executed, and time them.

nbval runs a notebook's code cells one by one in a kernel, one test per cell.
This plugin keeps each cell's outputs as nbval received them and, when every
cell of a notebook passed, writes the executed notebook to
``_build/executed/notebooks/<name>.ipynb``. The book build of ``make test``
(``tools/build_book.py --executed``) renders those files instead of running
every notebook a second time. A notebook with a failing cell gets no file, so
the book build refuses to render it.

It also prints each notebook's wall time (kernel start included) beside the
quick profile's budget of 60 s on a 2-core CPU, and runs the notebooks in the
book's order (_toc.yml), a reader's order: a chapter may load the zoo networks
an earlier chapter trained, from the shared cache, instead of training them
again (the segmentation chapters do).

    pytest notebooks --nbval-lax -p tests.book.executed_notebooks
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "_build" / "executed"
BUDGET_S = 60


class Recorder:
    def __init__(self):
        self.runs: dict[Path, dict] = {}

    def _run(self, item) -> dict | None:
        if type(item).__name__ != "IPyNbCell":
            return None
        path = Path(str(item.parent.fspath))
        if path not in self.runs:
            self.runs[path] = {
                "nb": copy.deepcopy(item.parent.nb),
                "ok": True,
                "cells": 0,
                "start": time.perf_counter(),
                "end": None,
            }
        return self.runs[path]

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        self._run(item)  # the clock starts before the kernel does

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        run = self._run(item)
        if run is None:
            return
        report = outcome.get_result()
        if report.failed or report.skipped:
            run["ok"] = False
        if call.when == "call":
            cells = [c for c in run["nb"].cells if c.cell_type == "code"]
            cell = cells[item.cell_num]
            cell.outputs = [nbformat.from_dict(o) for o in (item.test_outputs or [])]
            cell.execution_count = item.cell_num + 1
            run["cells"] += 1
            run["end"] = time.perf_counter()

    def pytest_sessionfinish(self, session):
        for path, run in self.runs.items():
            target = OUT / path.relative_to(ROOT)
            code_cells = sum(c.cell_type == "code" for c in run["nb"].cells)
            if run["ok"] and run["cells"] == code_cells:
                target.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(run["nb"], target)
            else:
                target.unlink(missing_ok=True)

    def pytest_terminal_summary(self, terminalreporter):
        if not self.runs:
            return
        write = terminalreporter.write_line
        terminalreporter.section("notebook wall times (kernel start included)")
        for path, run in sorted(self.runs.items()):
            seconds = (run["end"] or run["start"]) - run["start"]
            status = "ok" if run["ok"] else "FAILED"
            flag = f"  over the quick profile's {BUDGET_S} s" if seconds > BUDGET_S else ""
            write(f"{path.name:<36} {seconds:7.1f} s  {status}{flag}")
        write(f"executed notebooks written to {OUT.relative_to(ROOT)}/ (failed ones left out)")


def pytest_collection_modifyitems(session, config, items):
    """Notebooks in the book's order; cells keep their order within a notebook (a stable sort)."""
    from tests.book.toc import toc_pages

    rank = {(ROOT / f"{page}.ipynb").resolve(): i for i, page in enumerate(toc_pages())}
    items.sort(key=lambda item: rank.get(Path(str(item.fspath)).resolve(), len(rank)))


def pytest_configure(config):
    config.pluginmanager.register(Recorder(), "cnncourse-executed-notebooks")
