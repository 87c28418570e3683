"""The README is part of the product: its Quick start, rule table and config example are true."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from bot.repo_config import parse
from checks.registry import all_rules

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()

sys.path.insert(0, str(ROOT / "scripts"))
import rules_table  # noqa: E402


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def test_quick_start_is_exactly_two_commands():
    blocks = re.findall(r"```sh\n(.*?)```", _section("Quick start"), re.S)
    commands = [line for block in blocks for line in block.strip().splitlines()]
    assert len(blocks) == 2
    assert len(commands) == 2
    assert commands[0] == "scripts/setup.sh && python3 -m bot demo"
    assert commands[1] == "scripts/test.sh"


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test.sh" in ci


def test_rule_table_matches_the_registry():
    assert rules_table.replace_table(README) == README, (
        "README rule table is stale: run `python scripts/rules_table.py --write`"
    )
    for rule in all_rules():
        assert f"`{rule.id}`" in README


def test_config_reference_parses_and_means_what_it_says():
    block = re.search(r"```yaml\n(.*?)```", _section("Configuration"), re.S)
    assert block
    config = parse(block.group(1))
    assert config.required_level == 3
    assert config.exclude == ("lib/generated/**",)
    assert config.formatter.line_length == 98
    assert config.migrations.postgres_version == 11
    assert config.max_inline_comments == 25
    l6 = [r for r in all_rules() if r.level == 6]
    assert all(config.setting(r.id).severity is not None for r in l6)
