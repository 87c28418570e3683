"""Shared fixtures: rule runners over in-memory Elixir, and the `requires_elixir` skip."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest

from bot.simulator import Simulator
from checks.config import Config
from checks.examples import run_rule
from checks.model import Finding, Rule
from tests.app_e2e_support import Launch, launcher, running_simulator
from tests.harness import Harness

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


# --- the App end to end: the simulator and the real service (tests/test_app_*.py) -----------


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """A started GitHub simulator; on the way out, asserts that every request the bot sent
    was valid against GitHub's OpenAPI description."""
    async with running_simulator() as simulator:
        yield simulator


@pytest.fixture
async def launch(sim: Simulator) -> AsyncIterator[Launch]:
    async with launcher(sim) as go:
        yield go


@pytest.fixture
async def app(launch: Launch) -> Harness:
    return await launch()
