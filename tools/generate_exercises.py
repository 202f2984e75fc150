"""Write the student stubs in exercises/ from the reference answers in solutions/.

Everything between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (markers
included) becomes ``raise NotImplementedError(...)`` with the function's hint.
Maintainers edit solutions/ and run ``make exercises``; ``--check`` (part of
``make test``) fails when exercises/ is out of date. Students never run this.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
HEADER = (
    "# Your exercises: replace each `raise NotImplementedError(...)` with your code.\n"
    "# Grade them with `make grade`. (Generated from solutions/{name} by\n"
    "# tools/generate_exercises.py; maintainers edit solutions/, not this file.)\n"
)


def _hint(function: ast.FunctionDef) -> str:
    """The docstring's paragraph that starts with 'Hint:', on one line."""
    doc = ast.get_docstring(function) or ""
    for paragraph in doc.split("\n\n"):
        if paragraph.strip().startswith("Hint:"):
            return " ".join(paragraph.split())
    return "see the chapter."


def stub(source: str, name: str) -> str:
    """The exercise version of one solution file."""
    tree = ast.parse(source)
    functions = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    lines, out, inside = source.splitlines(keepends=True), [], False
    for number, line in enumerate(lines, start=1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise ValueError(f"solutions/{name}:{number}: {BEGIN} inside another solution block")
            owner = [f for f in functions if f.lineno <= number <= f.end_lineno]
            if not owner:
                raise ValueError(f"solutions/{name}:{number}: {BEGIN} outside any function")
            function = max(owner, key=lambda f: f.lineno)  # the innermost
            indent = line[: len(line) - len(line.lstrip())]
            message = f"{function.name}: not implemented yet. {_hint(function)}"
            out.append(f"{indent}raise NotImplementedError({message!r})\n")
            inside = True
        elif marker == END:
            if not inside:
                raise ValueError(f"solutions/{name}:{number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"solutions/{name}: {BEGIN} without {END}")
    return HEADER.format(name=name) + "".join(out)


def expected() -> dict[str, str]:
    """File name -> the stub it must have, for every solution file."""
    return {path.name: stub(path.read_text(), path.name) for path in sorted((ROOT / "solutions").glob("*.py"))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if exercises/ differs instead of writing it")
    args = parser.parse_args(argv)
    exercises = ROOT / "exercises"
    wanted = expected()
    stale = sorted(
        {p.name for p in exercises.glob("*.py")} - set(wanted)
        | {name for name, text in wanted.items() if not (exercises / name).is_file() or (exercises / name).read_text() != text}
    )
    if args.check:
        for name in stale:
            have = (exercises / name).read_text().splitlines(keepends=True) if (exercises / name).is_file() else []
            sys.stdout.writelines(difflib.unified_diff(have, wanted.get(name, "").splitlines(keepends=True), f"exercises/{name}", f"generated from solutions/{name}"))
        if stale:
            print(f"\nexercises/ is out of date ({', '.join(stale)}): run `make exercises` and commit.")
        return 1 if stale else 0
    exercises.mkdir(exist_ok=True)
    for name in stale:
        if name in wanted:
            (exercises / name).write_text(wanted[name])
        else:
            (exercises / name).unlink()
        print(f"wrote exercises/{name}" if name in wanted else f"removed exercises/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
