"""Write the student stubs in exercises/ from the reference answers in solutions/.

Everything between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (markers
included) becomes ``raise NotImplementedError(...)`` with the function's hint.
It also refreshes the solutions shown in the notebooks: each chapter's
exercises end with a ``<details>`` block holding a ```` ```python ```` fence
that starts with ``def name`` or ``class name``; the fence is rewritten with
the current source of the top-level functions and classes it shows, taken
from ``solutions/<chapter>.py`` (without the solution markers).
Maintainers edit solutions/ and run ``make exercises``; ``--check`` (part of
``make test``) fails when exercises/ or a notebook is out of date. Students
never run this.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import re
import sys
from pathlib import Path

import nbformat

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


def object_source(source: str, name: str) -> str:
    """The source of the top-level function or class ``name``, decorators and
    trailing indented comments (``### END SOLUTION``) included."""
    tree = ast.parse(source)
    lines = source.splitlines()
    for index, node in enumerate(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            end = node.end_lineno
            limit = tree.body[index + 1].lineno - 1 if index + 1 < len(tree.body) else len(lines)
            while end < limit and (not lines[end].strip() or lines[end][:1] in " \t"):
                end += 1
            return "\n".join(lines[start:end]).rstrip()
    raise KeyError(f"no top-level function or class {name!r}")


SOLUTION_FENCE = re.compile(r"(<details><summary>Solution</summary>\s*\n```python\n)(.*?)(\n```)", re.S)
DEFINED = re.compile(r"^(?:def|class) (\w+)", re.M)


def notebook_solutions(path: Path) -> nbformat.NotebookNode:
    """The notebook with every solution fence rewritten from solutions/<chapter>.py."""
    nb = nbformat.read(path, as_version=4)
    solution = ROOT / "solutions" / f"{path.stem}.py"

    def refresh(match):
        names = DEFINED.findall(match.group(2))
        if not names:
            raise ValueError(f"{path.name}: a solution block shows no def or class")
        if not solution.is_file():
            raise ValueError(f"{path.name}: shows a solution but there is no solutions/{solution.name}")
        source = solution.read_text()
        shown = "\n\n\n".join(object_source(source, n) for n in names)
        shown = "\n".join(line for line in shown.splitlines() if line.strip() not in (BEGIN, END))
        return match.group(1) + shown + match.group(3)

    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = SOLUTION_FENCE.sub(refresh, cell.source)
    return nb


def stale_notebooks() -> dict[Path, nbformat.NotebookNode]:
    """Notebooks whose solution blocks differ from solutions/ -> their refreshed version."""
    stale = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = notebook_solutions(path)
        if nb != nbformat.read(path, as_version=4):
            stale[path] = nb
    return stale


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
        notebooks = stale_notebooks()
        if notebooks:
            names = ", ".join(p.name for p in notebooks)
            print(f"\nsolutions shown in notebooks are out of date ({names}): run `make exercises` and commit.")
        return 1 if stale or notebooks else 0
    exercises.mkdir(exist_ok=True)
    for name in stale:
        if name in wanted:
            (exercises / name).write_text(wanted[name])
        else:
            (exercises / name).unlink()
        print(f"wrote exercises/{name}" if name in wanted else f"removed exercises/{name}")
    for path, nb in stale_notebooks().items():
        nbformat.write(nb, path)
        print(f"refreshed the solutions shown in notebooks/{path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
