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


def signed_in(user: str, password: str, page: str, query: dict[str, str] | None = None):
    """An AppTest of the dashboards with `query` in the URL, signed in as `user`, on app_pages/`page`.py."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(query or {})
    at.run()
    at.text_input(key="login_user").input(user)
    at.text_input(key="login_password").input(password)
    at.button[0].click().run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at
