"""tools/build_book.py: the book of `make test` renders what nbval executed, and refuses anything else."""

import importlib.util
import shutil
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("build_book", ROOT / "tools" / "build_book.py")
build_book = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_book)


def test_staging_uses_executed_notebooks_and_refuses_missing_or_stale_ones(tmp_path):
    executed, staged = tmp_path / "executed", tmp_path / "staged"
    notebooks = build_book.toc_notebooks()
    (executed / "notebooks").mkdir(parents=True)
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
        nbformat.write(nb, executed / "notebooks" / path.name)
    assert build_book.stage(executed, staged) == []
    config = yaml.safe_load((staged / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "off"
    staged_nb = nbformat.read(staged / "notebooks" / notebooks[0].name, as_version=4)
    assert any(cell.get("outputs") for cell in staged_nb.cells if cell.cell_type == "code")

    (executed / "notebooks" / notebooks[0].name).unlink()  # a notebook whose cell failed
    stale = nbformat.read(executed / "notebooks" / notebooks[1].name, as_version=4)
    next(c for c in stale.cells if c.cell_type == "code").source += "\n# edited after nbval ran"
    nbformat.write(stale, executed / "notebooks" / notebooks[1].name)
    problems = build_book.stage(executed, staged)
    assert any(notebooks[0].name in p and "no executed copy" in p for p in problems)
    assert any(notebooks[1].name in p and "changed since" in p for p in problems)
    shutil.rmtree(staged)
