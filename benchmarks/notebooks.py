"""Wall time of every chapter notebook, executed top to bottom, per profile.

    .venv/bin/python benchmarks/notebooks.py                      # quick profile, all notebooks
    .venv/bin/python benchmarks/notebooks.py resnet vgg           # some of them
    .venv/bin/python benchmarks/notebooks.py --profiles quick full   # a table of both profiles
    CNNCOURSE_PROFILE=full .venv/bin/python benchmarks/notebooks.py --out _build/executed

The quick profile's budget is 60 s per notebook on a 2-core CPU; the full
profile has none (it is meant for a GPU), and its CPU times tell a reader
without one what to expect. With ``--out``, the executed notebooks (outputs
included) are written there, one folder per profile when several are run,
so the figures a run printed can be read and quoted. The device is
whatever ``cnncourse.device()`` picks (``CNNCOURSE_DEVICE`` overrides it).
"""

import argparse
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
BUDGET = {"quick": 60}


def run(path: Path, profile: str, out: Path | None) -> tuple[float, str | None]:
    """Execute one notebook in a fresh kernel under ``profile``: its seconds, and the error that stopped it.

    A failing cell stops the notebook, not the run: the notebook is still
    written to ``out`` with the outputs up to the error, and the next one runs.
    """
    os.environ["CNNCOURSE_PROFILE"] = profile
    nb = nbformat.read(path, as_version=4)
    start, error = time.perf_counter(), None
    try:
        NotebookClient(nb, timeout=3600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except CellExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue}".strip()
    seconds = time.perf_counter() - start
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out / path.name)
    return seconds, error


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook names without .ipynb (default: all)")
    parser.add_argument("--profiles", nargs="+", choices=("quick", "full"),
                        help="profiles to run (default: CNNCOURSE_PROFILE, else quick)")
    parser.add_argument("--out", type=Path, help="folder for the executed notebooks")
    args = parser.parse_args()
    profiles = args.profiles or [os.environ.get("CNNCOURSE_PROFILE", "quick")]
    os.environ.setdefault("TQDM_DISABLE", "1")
    paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if args.names:
        known = {p.stem: p for p in paths}
        unknown = [n for n in args.names if n not in known]
        if unknown:
            raise SystemExit(f"unknown notebook(s) {unknown}; expected some of {sorted(known)}")
        paths = [known[n] for n in args.names]
    times, over, failed = {}, [], []
    for profile in profiles:
        out = None if args.out is None else (args.out / profile if len(profiles) > 1 else args.out)
        for path in paths:
            seconds, error = run(path, profile, out)
            times[path.stem, profile] = seconds
            budget = BUDGET.get(profile)
            flag = "" if budget is None or seconds <= budget else f"  OVER the {budget} s budget"
            over += [f"{path.name} ({profile})"] if flag else []
            failed += [f"{path.name} ({profile}): {error}"] if error else []
            flag += f"  FAILED: {error}" if error else ""
            print(f"{path.name:<32} {seconds:7.1f} s  ({profile}){flag}", flush=True)
    if len(profiles) > 1:
        print("\n| notebook | " + " | ".join(f"{p} (s)" for p in profiles) + " |")
        print("| --- |" + " ---: |" * len(profiles))
        for path in paths:
            print(f"| {path.stem} | " + " | ".join(f"{times[path.stem, p]:.0f}" for p in profiles) + " |")
        print("| total | " + " | ".join(f"{sum(times[n.stem, p] for n in paths):.0f}" for p in profiles) + " |")
    if over or failed:
        raise SystemExit("; ".join(([f"over budget: {', '.join(over)}"] if over else [])
                                   + ([f"failed: {', '.join(failed)}"] if failed else [])))


if __name__ == "__main__":
    main()
