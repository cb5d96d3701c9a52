"""The pages dashboards/app.py declares, read from its text (app.py runs its app on import)."""

from __future__ import annotations

import ast

from core.paths import REPO_ROOT

APP = REPO_ROOT / "dashboards" / "app.py"


def app_pages() -> list[tuple[str, str]]:
    """(url path, file in app_pages/) of every entry of app.py's PAGES."""
    tree = ast.parse(APP.read_text(encoding="utf-8"))
    node = next(n for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "PAGES")
    return [(key, file) for key, file, *_ in ast.literal_eval(node.value)]
