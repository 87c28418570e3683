"""The review settings as plain data (parsing and validation of YAML lives in bot/repo_config.py).

Defaults are the ladder's own: require L3, line length 98, Phoenix's directory conventions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from checks.model import Rule, Severity

# Phoenix conventions, for a single app and for the apps of an umbrella.
DEFAULT_MIGRATIONS = ("priv/*/migrations/**/*.exs", "apps/*/priv/*/migrations/**/*.exs")
DEFAULT_TESTS = ("test/**/*.exs", "apps/*/test/**/*.exs")
DEFAULT_TEST_SUPPORT = (
    "test/support/**",
    "apps/*/test/support/**",
    "test/test_helper.exs",
    "apps/*/test/test_helper.exs",
)
DEFAULT_CONFIG = ("config/**/*.exs", "apps/*/config/**/*.exs")

FilterMode = Literal["added", "file", "all"]


@dataclass(frozen=True)
class RuleSetting:
    """A per-repo override: `off`, a new severity, and/or new parameter values."""

    enabled: bool = True
    severity: Severity | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


_DEFAULT_SETTING = RuleSetting()


@dataclass(frozen=True)
class PathsConfig:
    migrations: tuple[str, ...] = DEFAULT_MIGRATIONS
    tests: tuple[str, ...] = DEFAULT_TESTS
    test_support: tuple[str, ...] = DEFAULT_TEST_SUPPORT
    config: tuple[str, ...] = DEFAULT_CONFIG


@dataclass(frozen=True)
class FormatterSettings:
    # None: take it from the project's .formatter.exs, else 98 (mix format's default).
    line_length: int | None = None
    elixir: bool = True


@dataclass(frozen=True)
class MigrationSettings:
    postgres_version: int = 11
    include_rollbacks: bool = False


@dataclass(frozen=True)
class Config:
    required_level: int = 3
    exclude: tuple[str, ...] = ()
    rules: Mapping[str, RuleSetting] = field(default_factory=dict)
    formatter: FormatterSettings = field(default_factory=FormatterSettings)
    paths: PathsConfig = field(default_factory=PathsConfig)
    migrations: MigrationSettings = field(default_factory=MigrationSettings)
    # Used by the GitHub App; harmless for the CLI.
    filter: FilterMode = "added"
    max_inline_comments: int = 25
    review_drafts: bool = False
    # Where the config came from, for messages ("built-in defaults" when none).
    source: str = "built-in defaults"

    def setting(self, rule_id: str) -> RuleSetting:
        return self.rules.get(rule_id) or _DEFAULT_SETTING

    def enabled(self, rule: Rule) -> bool:
        return self.setting(rule.id).enabled

    def severity(self, rule: Rule) -> Severity:
        return self.setting(rule.id).severity or rule.severity

    def param(self, rule: Rule, name: str) -> Any:
        """A rule's tunable: the repo's value if set, else the rule's default."""
        override = self.setting(rule.id).params
        if name in override:
            return override[name]
        if name not in rule.params:
            raise KeyError(f"rule {rule.id} has no parameter {name!r}")
        return rule.params[name]
