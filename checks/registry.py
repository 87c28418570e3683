"""Find every rule by convention instead of a central list.

Each reviewer module (`checks/l<N>_*.py`, `checks/migrations/*.py`) exposes `RULES`, a tuple of
`Rule`s. Discovering them means a new rule is one new module, and parallel work on different
levels never collides on a shared registry file.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import cache

import checks
from checks.model import Rule

_MODULE = re.compile(r"^l[0-7]_\w+$")


@cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule, ordered by level then id; raises if two modules claim the same id."""
    found: dict[str, Rule] = {}
    for name in _reviewer_modules():
        module = importlib.import_module(name)
        for rule in getattr(module, "RULES", ()):
            if not isinstance(rule, Rule):
                raise TypeError(f"{name}.RULES holds {rule!r}, not a Rule")
            if rule.id in found:
                raise ValueError(f"rule id {rule.id} is defined twice ({name})")
            found[rule.id] = rule
    return tuple(sorted(found.values(), key=lambda r: (r.level, r.id)))


@cache
def rules_by_id() -> dict[str, Rule]:
    return {rule.id: rule for rule in all_rules()}


def _reviewer_modules() -> list[str]:
    names: list[str] = []
    for info in pkgutil.iter_modules(checks.__path__):
        if _MODULE.match(info.name):
            names.append(f"checks.{info.name}")
    migrations = importlib.import_module("checks.migrations")
    for info in pkgutil.iter_modules(migrations.__path__):
        if not info.name.startswith("_"):
            names.append(f"checks.migrations.{info.name}")
    return sorted(names)
