"""The pages of the book, read from _toc.yml (shared by the book tests)."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def toc_pages() -> list[str]:
    """Every document in _toc.yml, in order (without suffix)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    walk(toc.get("parts"))
    return pages
