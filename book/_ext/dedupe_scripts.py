"""Drop a script that a page would otherwise include twice.

sphinx-thebe and sphinx-togglebutton (pulled in by Jupyter Book) add their
inline configuration scripts once before the build starts (Sphinx stores the
file name as ``''``) and once more while documents are read (``None``), so
every page declares ``const THEBE_JS_URL`` twice and the browser throws a
SyntaxError. Scripts with the same file and attributes are kept once.
"""


def _dedupe(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (getattr(script, "filename", None) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
