"""The layout is the architecture: packages import only downward, nothing imports in a cycle.

``lint-imports`` (import-linter) checks the contracts written in ``pyproject.toml``; these tests
run it on the real tree and on a copy with one upward import added, which it must refuse by name.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(tree), "PATH": str(LINT_IMPORTS.parent)})


def test_every_import_contract_is_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_upward_import_fails_with_its_name(tmp_path):
    for name in ("mnist_core", "ui"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    train = tmp_path / "mnist_core" / "engine" / "train.py"
    train.write_text(train.read_text() + "\nfrom mnist_core.lesson.steps import get_step  # noqa: E402\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "mnist_core.engine.train -> mnist_core.lesson.steps" in result.stdout


def test_no_module_of_the_project_is_imported_inside_a_function():
    """A cycle hidden by an import placed inside a function is still a cycle: every import of the
    project's own modules sits at the top of its file, where lint-imports and a reader see it."""
    inside = []
    for path in [*ROOT.glob("mnist_core/**/*.py"), *ROOT.glob("ui/**/*.py"), *ROOT.glob("pages/*.py"), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inside += [f"{path.relative_to(ROOT)}:{inner.lineno}" for inner in ast.walk(node)
                           if isinstance(inner, ast.ImportFrom)
                           and (inner.module or "").startswith(("mnist_core", "ui"))]
    assert not inside
