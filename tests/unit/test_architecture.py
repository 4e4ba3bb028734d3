"""The map of the product holds: every import, module-level or inside a function, runs along the arrows.

    flows.cli, flows.runners, flows.web ──> flows.services (and flows.schedule) ──> statemachines, storage,
                                                                           notifications, readers ──> domain
    The CLI starts the runners and reads the files it is handed (readers); beside that, both entry points use
    only the services and the domain. flows.testing (scenario, demo, samples) may use the services and
    everything below, never an entry point.

Nothing imports ``flows.cli``; only the CLI starts a runner; the domain imports nothing of ours.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "statemachines", "readers", "storage", "notifications", "flows")

# what each layer may import (besides itself and the standard and third-party libraries)
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "statemachines": {"domain"},
    "readers": {"domain"},
    "storage": {"domain"},
    "notifications": {"domain"},
    "flows.services": {"flows.services", "flows.schedule", "domain", "statemachines", "readers", "storage",
                       "notifications"},
    "flows.schedule": {"flows.services", "domain"},
    "flows.testing": {"flows.testing", "flows.services", "flows.schedule", "domain", "statemachines", "readers",
                      "storage", "notifications"},
    "flows.runners": {"flows.runners", "flows.services", "flows.schedule", "domain"},
    # the workspace in the browser: an entry point like the CLI, on the services and the domain only
    "flows.web": {"flows.web", "flows.services", "domain"},
    # the CLI reads the files it is handed (the readers: the edge) and calls the services; it reaches no
    # machine, table or message itself
    "flows.cli": {"flows.cli", "flows.runners", "flows.web", "flows.services", "flows.schedule", "flows.testing",
                  "domain", "readers"},
    "flows": set(),  # flows/__init__.py: a docstring
}


def layer(module: str) -> str | None:
    """The layer a module of ours belongs to (the longest entry of ``ALLOWED`` it starts with)."""
    parts = module.split(".")
    if parts[0] not in PACKAGES:
        return None
    for size in (2, 1):
        name = ".".join(parts[:size])
        if name in ALLOWED:
            return name
    return None


def modules() -> list[tuple[str, Path]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # alembic's scripts: storage's own
            relative = path.relative_to(ROOT).with_suffix("")
            parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
            found.append((".".join(parts), path))
    return found


def imports(path: Path, module: str) -> list[tuple[int, str]]:
    """Every module ``path`` imports, with its line: ``import x.y``, ``from x import y`` (as ``x.y``, so that
    ``from flows import cli`` counts as importing ``flows.cli``) and relative imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
    return found


def test_the_map_names_every_module_of_ours() -> None:
    unplaced = [name for name, _ in modules() if layer(name) is None]
    assert unplaced == []


@pytest.mark.parametrize(("module", "path"), modules(), ids=[name for name, _ in modules()])
def test_every_import_runs_along_the_arrows(module: str, path: Path) -> None:
    own = layer(module)
    assert own is not None
    wrong = []
    for line, imported in imports(path, module):
        target = layer(imported)
        if target is None or target == own:
            continue
        if target not in ALLOWED[own]:
            wrong.append(f"{path.relative_to(ROOT)}:{line} imports {imported} ({own} -> {target})")
    assert wrong == [], "\n".join(wrong)


def test_the_arrows_forbid_what_the_layers_promise() -> None:
    """The table itself: nothing below the entry points may import them, the domain imports nothing of ours."""
    for name, allowed in ALLOWED.items():
        if name != "flows.cli":
            assert "flows.cli" not in allowed, name
        if name not in ("flows.cli", "flows.runners"):
            assert "flows.runners" not in allowed, name
        if not name.startswith(("flows.cli", "flows.testing")):
            assert "flows.testing" not in allowed, name
    assert ALLOWED["domain"] == set()
    assert all(target in ("domain",) for target in ALLOWED["readers"] | ALLOWED["storage"]
               | ALLOWED["statemachines"] | ALLOWED["notifications"])


def test_a_wrong_import_is_caught(tmp_path: Path) -> None:
    """The check can fail: a storage module importing a reader, a service importing the CLI."""
    wrong = tmp_path / "wrong.py"
    wrong.write_text("from readers import files\nfrom flows.cli import app\n\ndef f():\n    import flows.runners\n")
    found = {imported for _, imported in imports(wrong, "storage.wrong")}
    assert {"readers.files", "flows.cli.app", "flows.runners"} <= found
    assert layer("readers.files") not in ALLOWED["storage"]
    assert layer("flows.cli.app") not in ALLOWED["flows.services"]


QUERY = ("select, ", "import select", "sa.select(", "sa.text(", ".exec(", "execute(sa.", "repo._", "store._")


@pytest.mark.parametrize(("module", "path"), [m for m in modules() if m[0].startswith("flows")],
                         ids=[name for name, _ in modules() if name.startswith("flows")])
def test_the_application_asks_storage_and_never_speaks_sql_itself(module: str, path: Path) -> None:
    """No query or raw SQL in the application and its entry points, no private storage function called."""
    text = path.read_text(encoding="utf-8")
    assert [needle for needle in QUERY if needle in text] == [], path.relative_to(ROOT)
