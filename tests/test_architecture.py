"""The layers import only what docs/architecture.md's picture allows: the domain nothing outside
itself (no Prefect, no database, no network), the service no Prefect, and so on up."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("prefect", "sqlalchemy", "alembic", "psycopg", "apprise", "httpx", "requests", "aiohttp",
             "urllib.request", "smtplib", "socket", "cli", "flows", "tasks", "db", "notifications", "deployments")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_domain_source_imports_nothing_outside_the_domain():
    bad = []
    for path in sorted((ROOT / "nianbao").rglob("*.py")):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                bad.append(f"{path.relative_to(ROOT)}: {name}")
    assert bad == []


def test_importing_every_domain_module_loads_no_infrastructure():
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in (ROOT / "nianbao").rglob("*.py")
    )
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    loaded = json.loads(out.stdout)
    assert [m for m in loaded if m.split(".")[0] in {"prefect", "sqlalchemy", "alembic", "psycopg", "apprise"}] == []


# each layer → the project packages (and Prefect) it may import; everything else of ours is off limits
LAYERS = {
    "db": {"db", "nianbao"},
    "notifications": {"notifications", "db", "nianbao"},
    "service": {"service", "db", "notifications", "nianbao"},
    "tasks": {"tasks", "service", "notifications", "db", "nianbao", "prefect"},
    "flows": {"flows", "tasks", "service", "notifications", "nianbao", "prefect"},
    "deployments": {"deployments", "flows", "service", "nianbao", "prefect"},
    "web": {"web", "service", "nianbao"},
    "cli": {"cli", "web", "flows", "deployments", "service", "db", "notifications", "nianbao", "prefect"},
}
OURS = {"nianbao", "db", "notifications", "service", "tasks", "flows", "deployments", "cli", "web", "prefect"}


def test_every_layer_imports_only_what_the_picture_allows():
    bad = []
    for layer, allowed in LAYERS.items():
        for path in sorted((ROOT / layer).rglob("*.py")):
            for name in _imports(path):
                top = name.split(".")[0]
                if top in OURS and top not in allowed:
                    bad.append(f"{path.relative_to(ROOT)}: {name}")
    assert bad == []


def test_the_picture_in_architecture_md_is_these_arrows():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    picture = text[text.index("## Layers"):text.index("## One submission")]
    drawn = {}
    for line in picture.splitlines():
        left, arrow, right = line.partition(" → ")
        if arrow and left.strip() in LAYERS:
            drawn[left.strip()] = {t.strip() for t in right.split("(")[0].split(",") if t.strip()}
    assert drawn == {layer: allowed - {layer, "prefect"} for layer, allowed in LAYERS.items()}
