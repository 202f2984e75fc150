"""Wall time of every chapter notebook, executed top to bottom.

    .venv/bin/python benchmarks/notebooks.py                      # quick profile, all notebooks
    .venv/bin/python benchmarks/notebooks.py resnet vgg           # some of them
    CNNCOURSE_PROFILE=full .venv/bin/python benchmarks/notebooks.py --out _build/executed

The quick profile's budget is 60 s per notebook on a 2-core CPU. With
``--out``, the executed notebooks (outputs included) are written there, so
the figures a run printed can be read and quoted.
"""

import argparse
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BUDGET = {"quick": 60}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook names without .ipynb (default: all)")
    parser.add_argument("--out", type=Path, help="folder for the executed notebooks")
    args = parser.parse_args()
    os.environ.setdefault("CNNCOURSE_PROFILE", "quick")
    os.environ.setdefault("TQDM_DISABLE", "1")
    profile = os.environ["CNNCOURSE_PROFILE"]
    paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if args.names:
        known = {p.stem: p for p in paths}
        unknown = [n for n in args.names if n not in known]
        if unknown:
            raise SystemExit(f"unknown notebook(s) {unknown}; expected some of {sorted(known)}")
        paths = [known[n] for n in args.names]
    over = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
        seconds = time.perf_counter() - start
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, args.out / path.name)
        budget = BUDGET.get(profile)
        flag = "" if budget is None or seconds <= budget else f"  OVER the {budget} s budget"
        over += [path.name] if flag else []
        print(f"{path.name:<32} {seconds:7.1f} s  ({profile}){flag}", flush=True)
    if over:
        raise SystemExit(f"over budget: {', '.join(over)}")


if __name__ == "__main__":
    main()
