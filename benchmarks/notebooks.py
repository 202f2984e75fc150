"""Wall time of every chapter notebook, executed top to bottom.

    .venv/bin/python benchmarks/notebooks.py                      # quick profile
    CNNCOURSE_PROFILE=full .venv/bin/python benchmarks/notebooks.py

The quick profile's budget is 60 s per notebook on a 2-core CPU.
"""

import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BUDGET = {"quick": 60}


def main():
    os.environ.setdefault("CNNCOURSE_PROFILE", "quick")
    os.environ.setdefault("TQDM_DISABLE", "1")
    profile = os.environ["CNNCOURSE_PROFILE"]
    over = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
        seconds = time.perf_counter() - start
        budget = BUDGET.get(profile)
        flag = "" if budget is None or seconds <= budget else f"  OVER the {budget} s budget"
        over += [path.name] if flag else []
        print(f"{path.name:<32} {seconds:7.1f} s  ({profile}){flag}")
    if over:
        raise SystemExit(f"over budget: {', '.join(over)}")


if __name__ == "__main__":
    main()
