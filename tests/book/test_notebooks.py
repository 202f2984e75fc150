"""Static checks of the committed notebooks (nbval executes them; the book build renders them)."""

import importlib.util
import json
import re
from pathlib import Path

import latexcodec  # noqa: F401  (registers the "latex" codec)
import pytest
import yaml
from pybtex.database import parse_file

from .toc import toc_pages

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks_and_each_is_in_the_book():
    assert NOTEBOOKS
    in_book = {page for page in toc_pages() if page.startswith("notebooks/")}
    assert in_book == {f"notebooks/{p.stem}" for p in NOTEBOOKS}, "every notebook, and only those, in _toc.yml"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_clean_and_starts_like_every_chapter(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), "strip the outputs"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert nb["cells"][0]["cell_type"] == "markdown" and "".join(nb["cells"][0]["source"]).startswith("# ")
    # The install cell (for Colab) installs from the repository configured in _config.yml.
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    install = "".join(code[0]["source"])
    assert f'REPO = "{url}"' in install and "cnncourse @ git+{REPO}" in install
    assert "find_spec(\"cnncourse\") is None" in install
    # The next cell shows the profile and the device.
    assert "cnncourse.setup(" in "".join(code[1]["source"])


MYST_MARKUP = re.compile(r"\{(cite|ref|numref|eq|doc|exercise|solution|literalinclude|note|admonition)[:}]|^:(label|class|pyobject):|^```\{", re.M)


def _markdown(nb):
    return [c["source"] if isinstance(c["source"], str) else "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]


def _code_lines(nb):
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            yield from ("".join(c["source"])).splitlines()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_reads_well_outside_the_book(path):
    """JupyterLab and Colab render plain Markdown: no MyST roles or directives, short code lines."""
    nb = json.loads(path.read_text())
    markup = [m.group(0) for text in _markdown(nb) for m in MYST_MARKUP.finditer(text)]
    assert not markup, f"MyST markup that JupyterLab and Colab show raw: {markup[:5]} (see book/_ext/notebook_markdown.py)"
    long = [line for line in _code_lines(nb) if len(line) > 79]
    assert not long, f"{len(long)} code lines over 79 characters (the book's code column): {long[:3]}"


BIB = parse_file(ROOT / "book" / "references.bib")


def _surname(entry):
    person = (entry.persons.get("author") or entry.persons.get("editor"))[0]
    name = " ".join(person.prelast_names + person.last_names)
    return name.replace("{", "").replace("}", "").encode().decode("latex") if "\\" in name else name.replace("{", "").replace("}", "")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_citations_name_an_entry_of_the_bibliography_by_author_and_year(path):
    cites = [(m.group(1), m.group(2)) for text in _markdown(json.loads(path.read_text()))
             for m in re.finditer(r"\[([^\]]+)\]\(#cite-([\w:.-]+)\)", text)]
    assert cites, "a chapter cites no paper"
    for text, key in cites:
        assert key in BIB.entries, f"#cite-{key}: no such entry in book/references.bib"
        entry = BIB.entries[key]
        assert _surname(entry) in text and entry.fields["year"] in text, f"[{text}](#cite-{key}) should name {_surname(entry)} and {entry.fields['year']}"


def test_book_markdown_conversion():
    spec = importlib.util.spec_from_file_location("notebook_markdown", ROOT / "book" / "_ext" / "notebook_markdown.py")
    ext = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ext)
    text = ("As [He et al. (2016)](#cite-he2016deep) showed "
            "([Lin et al., 2014](#cite-lin2014network); [Szegedy et al., 2015](#cite-szegedy2015going)).\n\n"
            "### Exercise: Max pooling, forward\n\nImplement it.\n\n<details><summary>Solution</summary>\n\n"
            "```python\ndef f():\n    pass\n```\n\n</details>\n\nAfter.")
    myst = ext.to_myst(text, "pooling")
    assert "{cite:t}`he2016deep`" in myst and "{cite:p}`lin2014network,szegedy2015going`" in myst
    assert "`````{exercise} Max pooling, forward\n:label: ex-pooling-max-pooling-forward\n\nImplement it.\n`````" in myst
    assert "`````{solution} ex-pooling-max-pooling-forward\n:class: dropdown\n\n```python\ndef f():\n    pass\n```\n`````" in myst
    assert myst.endswith("After.") and "<details>" not in myst
