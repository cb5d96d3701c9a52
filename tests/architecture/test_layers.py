"""The layer rule of docs/architecture.md: imports flow one way, and every caller can be grepped."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from core.paths import REPO_ROOT

PACKAGES = ("core", "ingest", "expectations", "windowwatch", "dashboards")


def test_import_linter_contracts_hold():
    """pyproject.toml [tool.importlinter]: dashboards > windowwatch > ingest | expectations > core."""
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint), "--no-cache"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert re.search(r"Contracts: (\d+) kept, 0 broken", proc.stdout)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_dags_call_the_pipeline_and_nothing_below_it():
    """A DAG file is thin: its tasks call windowwatch/ (and read core/), never a stage directly."""
    for dag in sorted((REPO_ROOT / "dags").glob("*.py")):
        ours = {n.split(".")[0] for n in _imports(dag)} & set(PACKAGES)
        assert ours <= {"windowwatch", "core"}, f"{dag.name} imports {sorted(ours)}"


def _string_imports(path: Path) -> list[tuple[int, str]]:
    """(line, text) of import_module / find_spec / __import__ calls whose argument is a string
    (or f-string) naming a module of ours."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if func not in ("import_module", "find_spec", "__import__"):
            continue
        arg = node.args[0]
        text = arg.value if isinstance(arg, ast.Constant) else ast.unparse(arg) if isinstance(arg, ast.JoinedStr) else ""
        if isinstance(text, str) and text.lstrip("f'\"").split(".")[0] in (*PACKAGES, "dags"):
            found.append((node.lineno, ast.unparse(node)))
    return found


def test_no_module_of_ours_is_imported_by_a_string():
    """importlib strings hide callers from grep (and from import-linter)."""
    offenders = [f"{path.relative_to(REPO_ROOT)}:{n}: {text}"
                 for top in (*PACKAGES, "dags") for path in (REPO_ROOT / top).rglob("*.py")
                 for n, text in _string_imports(path)]
    assert not offenders, "\n".join(offenders)


def test_the_contract_names_real_packages():
    """A contract over a package that no longer exists would pass vacuously."""
    text = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for name in re.findall(r'"([a-z_]+(?:\.[a-z_]+)*)"', text.split("[tool.importlinter]", 1)[1]):
        if name.split(".")[0] in PACKAGES:
            assert (REPO_ROOT / name.replace(".", "/")).with_suffix(".py").exists() or (REPO_ROOT / name.replace(".", "/")).is_dir(), name
