"""The shape the code keeps: domain modules never import from blueprint packages."""

import ast
from pathlib import Path

import pytest

WEBAPP = Path(__file__).resolve().parents[1] / "webapp"
BLUEPRINTS = sorted(
    p.parent.name
    for p in WEBAPP.glob("*/__init__.py")
    if "Blueprint(" in p.read_text() or (p.parent / "routes.py").exists()
)
DOMAIN_MODULES = sorted(p for p in WEBAPP.glob("*.py") if p.name not in {"__init__.py", "cli.py"})


def _imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 1:
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("webapp."):
            found.add(node.module.split(".")[1])
    return found


def test_blueprints_found():
    assert {"visits", "recipients", "dashboard"} <= set(BLUEPRINTS)


@pytest.mark.parametrize("module", DOMAIN_MODULES, ids=lambda p: p.name)
def test_domain_module_imports_no_blueprint(module):
    assert not (_imported_packages(module) & set(BLUEPRINTS)), f"{module.name} imports from a blueprint package"
