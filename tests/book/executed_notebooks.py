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

Under pytest-xdist (``-n 2 --dist loadscope``, as ``make nbval`` runs it), a
notebook's cells stay on one worker, and chapters that name the same zoo
network share a group: they run one after the other on one worker, so the
first one's training serves the rest. Each worker writes the notebooks it ran.

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
    """Keeps each notebook's executed cells (where they ran) and its wall time (where it is reported)."""

    def __init__(self):
        self.runs: dict[Path, dict] = {}
        self.clock: dict[str, list] = {}  # notebook -> [first start, last stop, every cell passed]

    def _run(self, item) -> dict | None:
        if type(item).__name__ != "IPyNbCell":
            return None
        path = Path(str(item.parent.fspath))
        if path not in self.runs:
            self.runs[path] = {"nb": copy.deepcopy(item.parent.nb), "ok": True, "cells": 0}
        return self.runs[path]

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

    def pytest_runtest_logreport(self, report):
        """Every phase of every cell, here or from a worker: the setup of the first one starts the kernel."""
        name = report.nodeid.split("::")[0]
        if not name.endswith(".ipynb"):
            return
        clock = self.clock.setdefault(name, [report.start, report.stop, True])
        clock[0], clock[1] = min(clock[0], report.start), max(clock[1], report.stop)
        clock[2] = clock[2] and not (report.failed or report.skipped)

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
        if not self.clock:
            return
        write = terminalreporter.write_line
        terminalreporter.section("notebook wall times (kernel start included)")
        for name, (start, stop, ok) in sorted(self.clock.items(), key=lambda kv: Path(kv[0]).name):
            seconds = stop - start
            status = "ok" if ok else "FAILED"
            flag = f"  over the quick profile's {BUDGET_S} s" if seconds > BUDGET_S else ""
            write(f"{Path(name).name:<36} {seconds:7.1f} s  {status}{flag}")
        write(f"executed notebooks written to {OUT.relative_to(ROOT)}/ (failed ones left out)")


def zoo_groups(paths) -> dict[Path, str]:
    """Notebook -> a group name shared by every notebook linked to it through a zoo network both name."""
    from cnncourse import zoo

    parent = {path: path for path in paths}

    def root(path):
        while parent[path] != path:
            path = parent[path]
        return path

    owner: dict[str, Path] = {}
    for path in paths:
        text = path.read_text()
        for name in zoo.list():
            if f'\\"{name}\\"' in text or f"'{name}'" in text:  # a string in a cell's JSON source
                if name in owner:
                    parent[root(path)] = root(owner[name])
                owner.setdefault(name, path)
    return {path: root(path).stem for path in paths}


def pytest_collection_modifyitems(session, config, items):
    """Notebooks in the book's order; cells keep their order within a notebook (a stable sort)."""
    from tests.book.toc import toc_pages

    rank = {(ROOT / f"{page}.ipynb").resolve(): i for i, page in enumerate(toc_pages())}
    items.sort(key=lambda item: rank.get(Path(str(item.fspath)).resolve(), len(rank)))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """With ``--dist loadscope``: each worker takes whole groups of notebooks (``zoo_groups``), cells in order."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ZooGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            if not hasattr(self, "groups"):
                self.groups = zoo_groups(sorted({ROOT / n.split("::")[0] for n in self.collection}))
            return self.groups[ROOT / nodeid.split("::")[0]]

    return ZooGroups(config, log)


def pytest_configure(config):
    config.pluginmanager.register(Recorder(), "cnncourse-executed-notebooks")
