"""Every third-party module the code or the tests import is named, with a lower bound, in a requirements file.

A user installs from ``requirements.txt`` (the app) and ``requirements-dev.txt`` (tests and tools)
into a fresh virtual environment; a module that only happens to be on the developer's machine
would pass here and fail there. This test reads every ``import`` statement, so the failure names
the missing package before any user meets it.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "app.py", *(ROOT / folder for folder in ("mnist_core", "ui", "pages", "tests"))]
LOCAL_PACKAGES = {"mnist_core", "ui", "pages", "tests", "conftest"}

# Import names that differ from the name of the package that provides them.
PACKAGE_OF_MODULE = {
    "PIL": "pillow",
    "sklearn": "scikit-learn",
    "cv2": "opencv-python-headless",
    "yaml": "pyyaml",
    "streamlit_drawable_canvas": "streamlit-drawable-canvas",
    "pytest_playwright": "pytest-playwright",
    "markdown_it": "markdown-it-py",
}


def normalise(name: str) -> str:
    """PEP 503's normal form, so ``Foo_Bar`` and ``foo-bar`` compare equal."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of ``path`` and of every file it includes with ``-r``."""
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r"):
            lines += requirement_lines(path.parent / line[2:].strip())
        else:
            lines.append(line)
    return lines


def required_packages() -> dict[str, str]:
    """Normalised package name -> its requirement line, over both requirements files."""
    lines = requirement_lines(ROOT / "requirements-dev.txt")
    return {normalise(re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0]): line for line in lines}


def python_files() -> list[Path]:
    files = []
    for source in SOURCES:
        files += [source] if source.is_file() else sorted(source.rglob("*.py"))
    return files


def third_party_imports() -> dict[str, Path]:
    """Top-level module name -> the first file importing it, for every absolute non-stdlib import."""
    found: dict[str, Path] = {}
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in LOCAL_PACKAGES and top != "__future__":
                    found.setdefault(top, path)
    return found


def test_the_scan_sees_the_imports_we_know_about():
    modules = third_party_imports()
    assert {"torch", "streamlit", "numpy", "PIL", "pytest"} <= set(modules)


@pytest.mark.parametrize("module", sorted(third_party_imports()))
def test_every_imported_package_is_a_requirement(module):
    package = normalise(PACKAGE_OF_MODULE.get(module, module))
    where = third_party_imports()[module].relative_to(ROOT)
    assert package in required_packages(), (
        f"{where} imports {module!r}, but no requirements file names the package {package!r}: "
        f"add it to requirements.txt (the app) or requirements-dev.txt (tests and tools)"
    )


def test_every_requirement_has_a_lower_bound():
    unbounded = [line for line in required_packages().values() if ">=" not in line and "==" not in line]
    assert not unbounded, f"requirements without a lower bound: {unbounded}"
