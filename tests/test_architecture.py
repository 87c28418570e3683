"""The layering the design depends on: `checks/` is pure (no GitHub, no HTTP, nothing from `bot/`)
so the same reviewers run in the CLI, the service and the tests; and every reviewer module is
found by convention, exposing `RULES` with ids nobody else uses."""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import checks
from checks.model import RULE_ID, Rule
from checks.registry import _reviewer_modules, all_rules

CHECKS = Path(checks.__file__).resolve().parent
REPO = CHECKS.parent
FORBIDDEN = frozenset({"bot", "aiohttp", "gidgethub"})
SOURCES = sorted(CHECKS.rglob("*.py"))


def _module_name(path: Path, root: Path = REPO) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, root: Path = REPO) -> list[tuple[int, str]]:
    """Every module a file imports, absolute, with its line: `import a.b`, `from a import b`,
    relative `from .. import x`, and literal `importlib.import_module("a")` or `__import__("a")`.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                prefix = ".".join(base)
                module = f"{prefix}.{node.module}" if node.module else prefix
                if not node.module:
                    found.extend((node.lineno, f"{prefix}.{a.name}") for a in node.names)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0]
            if (
                name in ("import_module", "__import__")
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                found.append((node.lineno, first.value))
    return found


def test_sources_are_found():
    names = {p.name for p in SOURCES}
    assert {"ladder.py", "model.py", "l4_specs.py"} <= names
    assert any(p.parent.name == "migrations" for p in SOURCES)


@pytest.mark.parametrize("path", SOURCES, ids=[p.relative_to(REPO).as_posix() for p in SOURCES])
def test_checks_never_import_bot_or_the_web_stack(path):
    bad = [
        f"{path.relative_to(REPO)}:{line}: imports {module}"
        for line, module in imported_modules(path)
        if module.split(".")[0] in FORBIDDEN
    ]
    assert bad == []


def test_the_import_scanner_sees_every_form(tmp_path):
    sample = tmp_path / "checks" / "sub" / "mod.py"
    sample.parent.mkdir(parents=True)
    sample.write_text(
        "import os, bot.cli\n"
        "from aiohttp import web\n"
        "from gidgethub.aiohttp import GitHubAPI\n"
        "from . import sibling\n"
        "from ..model import Rule\n"
        "import importlib\n"
        "def f():\n"
        "    from bot import formats\n"
        "    importlib.import_module('bot.review')\n"
        "    return __import__('aiohttp')\n"
        "if False:\n"
        "    import gidgethub\n"
    )
    modules = {m for _, m in imported_modules(sample, root=tmp_path)}
    assert {
        "os",
        "bot.cli",
        "aiohttp",
        "gidgethub.aiohttp",
        "checks.sub",
        "checks.sub.sibling",
        "checks.model",
        "bot",
        "bot.review",
        "gidgethub",
    } <= modules


def test_importing_every_checks_module_loads_nothing_forbidden():
    # The static scan above cannot see an import done by a dependency; this can.
    names = sorted(_module_name(p) for p in SOURCES)
    code = (
        "import importlib, json, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "from checks.registry import all_rules\n"
        "all_rules()\n"
        f"bad = {sorted(FORBIDDEN)!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in bad)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


# --- reviewer modules ---------------------------------------------------------------------------

_REVIEWER_FILE = re.compile(r"^l([0-7])_\w+\.py$")


def _reviewer_files() -> list[Path]:
    top = [p for p in CHECKS.glob("l*_*.py") if _REVIEWER_FILE.match(p.name)]
    migrations = [p for p in (CHECKS / "migrations").glob("*.py") if not p.name.startswith("_")]
    return sorted(top + migrations)


def _is_support(path: Path) -> bool:
    return path.stem.endswith("_support")


def test_the_registry_discovers_every_reviewer_file():
    discovered = set(_reviewer_modules())
    for path in _reviewer_files():
        assert _module_name(path) in discovered, path


@pytest.mark.parametrize("name", _reviewer_modules())
def test_every_rule_module_exposes_rules(name):
    module = importlib.import_module(name)
    if name.rsplit(".", 1)[-1].endswith("_support"):
        assert not hasattr(module, "RULES"), f"{name}: support modules hold no rules"
        return
    rules = getattr(module, "RULES", None)
    assert isinstance(rules, tuple), f"{name}.RULES must be a tuple of Rule"
    assert rules, f"{name}.RULES is empty"
    assert all(isinstance(r, Rule) for r in rules)
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids)), f"{name}: duplicate ids {ids}"
    m = re.match(r"checks\.l([0-7])_", name)
    expected_level = int(m.group(1)) if m else 5  # migrations are L5 (safe Ecto migrations)
    for rule in rules:
        assert RULE_ID.match(rule.id)
        assert rule.level == expected_level, f"{rule.id} lives in {name}"


def test_rule_ids_are_unique_across_modules():
    owners: dict[str, list[str]] = {}
    for name in _reviewer_modules():
        for rule in getattr(importlib.import_module(name), "RULES", ()):
            owners.setdefault(rule.id, []).append(name)
    duplicated = {rule_id: where for rule_id, where in owners.items() if len(where) > 1}
    assert duplicated == {}
    assert sorted(owners) == sorted(r.id for r in all_rules())


def test_all_rules_is_ordered_by_level_then_id():
    rules = all_rules()
    assert list(rules) == sorted(rules, key=lambda r: (r.level, r.id))


def test_rules_declare_consistent_capabilities():
    for rule in all_rules():
        assert rule.applies_to, rule.id
        if rule.check_project is not None:
            assert rule.summarize is not None, f"{rule.id}: a project rule needs summarize"
