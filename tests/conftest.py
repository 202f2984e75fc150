"""Shared test set-up, and the grader.

All tests run in the quick profile unless ``CNNCOURSE_PROFILE`` says otherwise.

The grader (tests/grading/) runs the exercise tests against a folder of answers.

    pytest tests/grading                      # grades solutions/ (must be full marks)
    pytest tests/grading --impl=exercises     # grades your exercises/ (what `make grade` does)
    pytest tests/grading --impl=path/to/copy  # grades a student's copy of exercises/

Each test carries points (``@pytest.mark.points(n)``). A submission that does
not import, raises or hangs (``--exercise-timeout`` seconds per test) scores 0
on the affected tests; every other test is still graded. The run ends with a
score table and writes Gradescope's ``results.json`` (``--results-json``).

An exercise that re-implements a library routine forbids it:
``@pytest.mark.forbid("torch.nn.functional.conv2d", ...)`` makes every alias
of those routines raise :class:`ForbiddenCall` when code in the graded
folder calls them (directly or through ``nn.Conv2d``); the test itself may
still call them for its reference. For a class, constructing it is forbidden.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import pytest

os.environ.setdefault("CNNCOURSE_PROFILE", "quick")

ROOT = Path(__file__).resolve().parents[1]
GRADING = Path(__file__).resolve().parent / "grading"
DEFAULT_TIMEOUT = 60


def pytest_addoption(parser):
    group = parser.getgroup("cnncourse grading")
    group.addoption("--impl", default="solutions", help="folder of answers: solutions, exercises or a path")
    group.addoption("--results-json", default="results.json", help="where to write Gradescope's results.json")
    group.addoption("--exercise-timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per grading test")


def _impl_dir(config) -> Path:
    impl = config.getoption("--impl")
    path = Path(impl) if Path(impl).is_dir() or "/" in impl else ROOT / impl
    return path.resolve()


class Grades:
    """Collects the outcome and points of every grading test (also from xdist workers)."""

    def __init__(self, config):
        self.config = config
        self.tests: dict[str, dict] = {}
        self.started = time.time()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report):
        props = dict(report.user_properties)
        if "points" not in props:
            return
        entry = self.tests.setdefault(
            report.nodeid, {"name": report.nodeid.split("::", 1)[-1], "max_score": props["points"], "passed": True, "output": ""}
        )
        if report.failed or (report.when == "call" and not report.passed):
            entry["passed"] = False
            if not entry["output"]:
                entry["output"] = _short_reason(report)

    def pytest_terminal_summary(self, terminalreporter):
        if not self.tests:
            return
        rows = []
        for entry in self.tests.values():
            entry["score"] = entry["max_score"] if entry["passed"] else 0
            rows.append(entry)
        total, maximum = sum(r["score"] for r in rows), sum(r["max_score"] for r in rows)
        impl = _impl_dir(self.config)
        write = terminalreporter.write_line
        terminalreporter.section(f"grades for {impl}")
        width = max(len(r["name"]) for r in rows)
        for r in rows:
            mark = "ok  " if r["passed"] else "FAIL"
            write(f"{mark} {r['name']:<{width}}  {r['score']:>3} / {r['max_score']:<3} {r['output'][:70]}")
        write(f"TOTAL {total} / {maximum}")
        results = {
            "score": total,
            "max_score": maximum,
            "execution_time": round(time.time() - self.started, 1),
            "tests": [
                {"name": r["name"], "score": r["score"], "max_score": r["max_score"], "output": r["output"], "visibility": "visible"}
                for r in rows
            ],
        }
        path = Path(self.config.getoption("--results-json"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2) + "\n")
        write(f"results written to {path}")


def _short_reason(report) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    return crash.message.splitlines()[0] if crash is not None else str(report.longrepr).splitlines()[-1]


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist) keeps the grades
        config.pluginmanager.register(Grades(config), "cnncourse-grades")


def pytest_collection_modifyitems(config, items):
    seconds = config.getoption("--exercise-timeout")
    for item in items:
        if GRADING not in Path(item.fspath).parents:
            continue
        marker = item.get_closest_marker("points")
        if marker is None:
            raise pytest.UsageError(f"{item.nodeid}: every grading test needs @pytest.mark.points(n)")
        item.user_properties.append(("points", marker.args[0]))
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(seconds, method="signal"))


class ForbiddenCall(RuntimeError):
    """The graded code called the routine its exercise re-implements."""


def _resolve(dotted: str):
    """(owner, attribute, object) for ``package.module.attribute[.attribute]``."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            owner = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:-1]:
            owner = getattr(owner, attribute)
        return owner, parts[-1], getattr(owner, parts[-1])
    raise ValueError(f"forbid: cannot resolve {dotted!r}")


def _called_from(folder: str) -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.startswith(folder):
            return True
        frame = frame.f_back
    return False


def _forbid(monkeypatch, dotted: str, folder: str):
    """Make ``dotted`` (and every alias of it in loaded modules) raise when called from ``folder``."""
    owner, attribute, original = _resolve(dotted)
    message = f"{dotted} is the routine this exercise re-implements; the grader forbids calling it here"
    if isinstance(original, type):  # a class: forbid constructing it
        init = original.__init__

        @functools.wraps(init)
        def guarded_init(self, *args, **kwargs):
            if _called_from(folder):
                raise ForbiddenCall(message)
            init(self, *args, **kwargs)

        monkeypatch.setattr(original, "__init__", guarded_init)
        return

    @functools.wraps(original)
    def guarded(*args, **kwargs):
        if _called_from(folder):
            raise ForbiddenCall(message)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, attribute, guarded)
    # Aliases too (torch.conv2d is F.conv2d; layers.conv2d is layers.conv.conv2d), except in the module
    # that defines a Python function: its own code may look itself up (torchvision's kernel registry does).
    home = getattr(original, "__globals__", {}).get("__name__")
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None) or {}
        if namespace.get("__name__") == home and module is not owner:
            continue
        for name, value in list(namespace.items()):
            if value is original:
                monkeypatch.setattr(module, name, guarded)


@pytest.fixture
def submission(request):
    """``submission("convolution")`` imports that module from the folder being graded.

    The routines the test forbids (``@pytest.mark.forbid``) raise when the
    submission calls them, from the import on.
    """
    folder = str(_impl_dir(request.config)) + os.sep
    marker = request.node.get_closest_marker("forbid")
    if marker is not None:
        monkeypatch = request.getfixturevalue("monkeypatch")
        for dotted in marker.args:
            _forbid(monkeypatch, dotted, folder)

    def load(name: str):
        path = _impl_dir(request.config) / f"{name}.py"
        if not path.is_file():
            pytest.fail(f"no {path.name} in {path.parent}", pytrace=False)
        module_name = f"graded_{name}_{abs(hash(path))}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except (Exception, SystemExit) as error:  # a broken submission must not stop the grader
            pytest.fail(f"could not import {path.name}: {type(error).__name__}: {error}", pytrace=False)
        sys.modules.pop(module_name, None)
        return module

    return load
