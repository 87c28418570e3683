"""Shared fixtures: rule runners over in-memory Elixir, and the `requires_elixir` skip."""

from __future__ import annotations

import shutil

import pytest

from checks.config import Config
from checks.examples import run_rule
from checks.model import Finding, Rule

HAS_ELIXIR = shutil.which("elixir") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason="the `elixir` executable is not on PATH")
    for item in items:
        if "requires_elixir" in item.keywords and not HAS_ELIXIR:
            item.add_marker(skip)


def findings_for(
    rule: Rule,
    source: str | dict[str, str],
    path: str | None = None,
    config: Config | None = None,
) -> list[Finding]:
    """Run one rule on Elixir source (or several files {path: text}); return its findings.
    A skipped file or a crash of the rule fails the test."""
    files = source if isinstance(source, dict) else {path or rule.example_path: source}
    return run_rule(rule, files, config, strict=True)


def lines_of(findings: list[Finding]) -> list[int]:
    return [f.line for f in findings]
