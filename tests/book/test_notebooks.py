"""Static checks of the committed notebooks (nbval executes them; the book build renders them)."""

import json
from pathlib import Path

import pytest
import yaml
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
    assert f"cnncourse @ git+{url}" in install and "find_spec(\"cnncourse\") is None" in install
    # The next cell shows the profile and the device.
    assert "cnncourse.setup(" in "".join(code[1]["source"])
