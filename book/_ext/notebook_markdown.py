"""Chapter notebooks in plain Markdown, rendered as MyST in the book.

A chapter is read in three places: the book (Sphinx and MyST), JupyterLab and
Colab. The last two render plain Markdown only, so raw MyST roles and
directives (``{cite}``, ``{exercise}``, ``:label:``) would show as markup.
Notebooks therefore use two plain-Markdown conventions, and this extension
turns them into MyST while the book reads a notebook (``source-read``):

* **Citations** are links to ``#cite-<bibtex key>`` with readable text:
  ``[He et al. (2016)](#cite-he2016deep)`` becomes ``{cite:t}`he2016deep```;
  links inside parentheses, ``([He et al., 2016](#cite-he2016deep);
  [Lin et al., 2014](#cite-lin2014network))``, become one ``{cite:p}``.
* **Exercises** are a heading ``### Exercise: <title>``, the task, then the
  solution in an HTML ``<details>`` block (collapsed in JupyterLab and Colab)::

      ### Exercise: Max pooling, forward

      Implement ...

      <details><summary>Solution</summary>

      ```python
      def max_pool2d_forward(...):
      ```

      </details>

  They become sphinx-exercise's ``exercise`` directive, labelled
  ``ex-<chapter>-<title>``, and a dropdown ``solution``.

``tools/generate_exercises.py`` keeps the solution code in the notebooks
equal to ``solutions/``; ``tests/book/test_notebooks.py`` checks that no
notebook contains MyST markup and that every citation's text names the
entry's first author and year.
"""

from __future__ import annotations

import json
import re

CITE = r"\[[^\]]+\]\(#cite-([\w:.-]+)\)"
PARENTHETICAL = re.compile(r"\((\s*" + CITE + r"(?:\s*;\s*" + CITE + r")*\s*)\)")
TEXTUAL = re.compile(CITE)
EXERCISE = re.compile(
    r"^#{2,4} Exercise: (?P<title>[^\n]+)\n(?P<task>.*?)\n"
    r"<details>\s*<summary>Solution</summary>\s*\n(?P<solution>.*?)\n</details>[ \t]*$",
    re.M | re.S,
)


def _citations(text: str) -> str:
    def parenthetical(match):
        keys = re.findall(r"#cite-([\w:.-]+)\)", match.group(1))
        return "{cite:p}`" + ",".join(keys) + "`"

    text = PARENTHETICAL.sub(parenthetical, text)
    return TEXTUAL.sub(lambda m: "{cite:t}`" + m.group(1) + "`", text)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _exercises(text: str, chapter: str) -> str:
    def directive(match):
        label = f"ex-{_slug(chapter)}-{_slug(match.group('title'))}"
        return (
            f"`````{{exercise}} {match.group('title').strip()}\n:label: {label}\n\n"
            f"{match.group('task').strip()}\n`````\n\n"
            f"`````{{solution}} {label}\n:class: dropdown\n\n"
            f"{match.group('solution').strip()}\n`````"
        )

    return EXERCISE.sub(directive, text)


def to_myst(markdown: str, chapter: str) -> str:
    """One notebook Markdown cell, as the book should parse it."""
    return _exercises(_citations(markdown), chapter)


def _source_read(app, docname, source):
    if not str(app.env.doc2path(docname)).endswith(".ipynb"):
        return
    nb = json.loads(source[0])
    chapter = docname.rsplit("/", 1)[-1]
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            cell["source"] = to_myst(text, chapter)
    source[0] = json.dumps(nb)


def setup(app):
    app.connect("source-read", _source_read)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
