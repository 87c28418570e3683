"""`.github/ladder.yml` (or `.ladder.yml`): parse strictly into `checks.config.Config`.

A typo in a config key must not silently turn a rule back on or off, so unknown keys and
bad values are errors that name the key (`rules.L4.spec-missing: expected off, notice, warning
or error, got 'warn'`). The same parser serves the CLI and the App, which reads the file from
the pull request's BASE branch so a pull request cannot switch off its own review.

    required_level: L3
    exclude: ["lib/generated/**"]
    rules:
      L4.spec-missing: notice          # off | notice | warning | error
      L2.function-too-long: {max_lines: 60}
      L6.*: warning                    # a glob applies to every matching rule
    formatter: {line_length: 98, elixir: true}
    paths: {migrations: ["priv/*/migrations/**/*.exs"], tests: ["test/**/*.exs"]}
    migrations: {postgres_version: 11, include_rollbacks: false}
    filter: added                      # added | file | all
    max_inline_comments: 25
    review_drafts: false
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, cast

import yaml

from checks.config import (
    Config,
    FilterMode,
    FormatterSettings,
    MigrationSettings,
    PathsConfig,
    RuleSetting,
)
from checks.model import Rule, Severity, parse_level
from checks.registry import all_rules

CONFIG_LOCATIONS = (".github/ladder.yml", ".github/ladder.yaml", ".ladder.yml", ".ladder.yaml")
MAX_CONFIG_BYTES = 256_000

_TOP_KEYS = (
    "required_level",
    "exclude",
    "rules",
    "formatter",
    "paths",
    "migrations",
    "filter",
    "max_inline_comments",
    "review_drafts",
)
_SEVERITY_WORDS = ("off", "notice", "warning", "error")


class ConfigError(ValueError):
    """The config is invalid; the message names the key and what was expected."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key given twice in one mapping: PyYAML keeps the last value
    silently, so a second `rules:` block would quietly discard the first one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Hashable, int] = {}
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults` may legitimately be overridden key by key
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # SafeConstructor reports unhashable keys itself
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first given on line {seen[key]})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def find_config(root: Path) -> Path | None:
    for name in CONFIG_LOCATIONS:
        candidate = root / name
        if candidate.is_file():
            return candidate
    return None


def load_file(path: Path) -> Config:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return parse(data, source=str(path))


def parse(data: bytes | str, *, source: str = ".github/ladder.yml") -> Config:
    """Parse and validate; raise ConfigError naming the offending key."""
    if isinstance(data, bytes):
        if len(data) > MAX_CONFIG_BYTES:
            raise ConfigError(f"{source}: file is larger than {MAX_CONFIG_BYTES:,} bytes")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{source}: not valid UTF-8 ({exc.reason})") from exc
    try:
        loaded = yaml.load(data, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" (line {where.line + 1}, column {where.column + 1})" if where else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{source}: invalid YAML{at}: {problem}") from exc
    if loaded is None:
        return Config(source=source)
    if not isinstance(loaded, dict):
        raise ConfigError(f"{source}: expected a mapping of settings at the top level")
    return _build(loaded, source)


def _build(raw: dict[Any, Any], source: str) -> Config:
    _no_unknown(raw, _TOP_KEYS, "")
    values: dict[str, Any] = {"source": source}
    if "required_level" in raw:
        try:
            values["required_level"] = parse_level(raw["required_level"])
        except ValueError as exc:
            raise ConfigError(f"required_level: {exc}") from exc
    if "exclude" in raw:
        values["exclude"] = _globs(raw["exclude"], "exclude")
    if "rules" in raw:
        values["rules"] = _rules(raw["rules"])
    if "formatter" in raw:
        values["formatter"] = _formatter(raw["formatter"])
    if "paths" in raw:
        values["paths"] = _paths(raw["paths"])
    if "migrations" in raw:
        values["migrations"] = _migrations(raw["migrations"])
    if "filter" in raw:
        mode = raw["filter"]
        if mode not in ("added", "file", "all"):
            raise ConfigError(f"filter: expected added, file or all, got {mode!r}")
        values["filter"] = cast(FilterMode, mode)
    if "max_inline_comments" in raw:
        values["max_inline_comments"] = _int(
            raw["max_inline_comments"], "max_inline_comments", 0, 100
        )
    if "review_drafts" in raw:
        values["review_drafts"] = _bool(raw["review_drafts"], "review_drafts")
    return Config(**values)


def _no_unknown(raw: Mapping[Any, Any], allowed: Sequence[str], prefix: str) -> None:
    for key in raw:
        if key not in allowed:
            where = f"{prefix}{key}"
            raise ConfigError(f"{where}: unknown key (expected one of: {', '.join(allowed)})")


def _int(value: Any, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{key}: expected an integer, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"{key}: expected a value from {low} to {high}, got {value}")
    return value


def _bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    return value


def _globs(value: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{key}: expected a list of glob strings, got {value!r}")
    return tuple(v.strip() for v in value)


def _severity_word(value: Any, key: str) -> str:
    # YAML 1.1 reads a bare `off` as false (and `on` as true): accept what the user meant.
    if value is False:
        return "off"
    if value is True:
        return "on"
    if isinstance(value, str) and value.lower() in (*_SEVERITY_WORDS, "on"):
        return value.lower()
    raise ConfigError(f"{key}: expected off, notice, warning or error, got {value!r}")


@dataclass(frozen=True)
class _Partial:
    """What one `rules:` entry says about a rule; None means "not said", so an entry that only
    tunes parameters does not switch back on a rule that a glob switched off."""

    enabled: bool | None = None
    severity: Severity | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


def _rules(raw: Any) -> dict[str, RuleSetting]:
    """Globs apply first (in file order), exact ids last: the most specific entry wins whatever
    the order of the keys, so `L6.*: off` next to `L6.log-level: error` means what it says."""
    if not isinstance(raw, dict):
        raise ConfigError("rules: expected a mapping of rule id to off/notice/warning/error")
    known = all_rules()
    entries: list[tuple[bool, str, Any, list[Rule]]] = []
    for key, value in raw.items():
        if not isinstance(key, str):
            raise ConfigError(f"rules: rule ids are strings, got {key!r}")
        matched = [r for r in known if fnmatchcase(r.id, key)]
        if not matched:
            raise ConfigError(f"rules.{key}: no such rule (see `ladder rules`)")
        exact = any(r.id == key for r in matched)
        entries.append((exact, key, value, matched))
    partials: dict[str, _Partial] = {}
    for _exact, key, value, matched in sorted(entries, key=lambda entry: entry[0]):
        for rule in matched:
            partials[rule.id] = _merge(partials.get(rule.id), _rule_setting(rule, key, value))
    return {
        rule_id: RuleSetting(
            enabled=p.enabled if p.enabled is not None else True,
            severity=p.severity,
            params=p.params,
        )
        for rule_id, p in partials.items()
    }


def _merge(old: _Partial | None, new: _Partial) -> _Partial:
    if old is None:
        return new
    return _Partial(
        enabled=new.enabled if new.enabled is not None else old.enabled,
        severity=new.severity or old.severity,
        params={**old.params, **new.params},
    )


def _rule_setting(rule: Rule, key: str, value: Any) -> _Partial:
    where = f"rules.{key}"
    if not isinstance(value, dict):
        return _from_word(_severity_word(value, where))
    word: _Partial | None = None
    enabled: bool | None = None
    params: dict[str, Any] = {}
    for name, item in value.items():
        if name == "severity":
            word = _from_word(_severity_word(item, f"{where}.severity"))
        elif name == "enabled":
            enabled = _bool(item, f"{where}.enabled")
        elif name in rule.params:
            params[name] = _param(rule.params[name], item, f"{where}.{name}")
        else:
            allowed = ", ".join(["severity", "enabled", *rule.params])
            raise ConfigError(f"{where}.{name}: unknown parameter (expected one of: {allowed})")
    if enabled is None and word is not None:
        enabled = word.enabled
    severity = word.severity if word is not None else None
    return _Partial(enabled=enabled, severity=severity, params=params)


def _from_word(word: str) -> _Partial:
    if word == "off":
        return _Partial(enabled=False)
    if word == "on":
        return _Partial(enabled=True)
    return _Partial(enabled=True, severity=Severity(word))


_PARAM_CHECKS: dict[type, Callable[[Any], bool]] = {
    bool: lambda v: isinstance(v, bool),
    int: lambda v: isinstance(v, int) and not isinstance(v, bool),
    float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    str: lambda v: isinstance(v, str),
}


def _param(default: Any, value: Any, key: str) -> Any:
    """Validate a parameter against the type of its default (lists stay lists of that type)."""
    if isinstance(default, (list, tuple, frozenset, set)):
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        sample = next(iter(default), None)
        item_check = _PARAM_CHECKS.get(type(sample)) if sample is not None else None
        if item_check is not None:
            bad = [v for v in value if not item_check(v)]
            if bad:
                raise ConfigError(
                    f"{key}: expected {type(sample).__name__} items, got {bad[0]!r}"
                )
        return tuple(value)
    check = _PARAM_CHECKS.get(type(default))
    if check is not None and not check(value):
        raise ConfigError(f"{key}: expected {type(default).__name__}, got {value!r}")
    if isinstance(default, int) and not isinstance(default, bool) and value < 0:
        raise ConfigError(f"{key}: expected a non-negative number, got {value}")
    return value


def _formatter(raw: Any) -> FormatterSettings:
    if not isinstance(raw, dict):
        raise ConfigError("formatter: expected a mapping (line_length, elixir)")
    _no_unknown(raw, ("line_length", "elixir"), "formatter.")
    line_length = raw.get("line_length")
    if line_length is not None:
        line_length = _int(line_length, "formatter.line_length", 40, 500)
    elixir = _bool(raw["elixir"], "formatter.elixir") if "elixir" in raw else True
    return FormatterSettings(line_length=line_length, elixir=elixir)


def _paths(raw: Any) -> PathsConfig:
    if not isinstance(raw, dict):
        raise ConfigError("paths: expected a mapping (migrations, tests, test_support, config)")
    keys = ("migrations", "tests", "test_support", "config")
    _no_unknown(raw, keys, "paths.")
    defaults = PathsConfig()
    values = {k: _globs(raw[k], f"paths.{k}") if k in raw else getattr(defaults, k) for k in keys}
    return PathsConfig(**values)


def _migrations(raw: Any) -> MigrationSettings:
    if not isinstance(raw, dict):
        raise ConfigError("migrations: expected a mapping (postgres_version, include_rollbacks)")
    _no_unknown(raw, ("postgres_version", "include_rollbacks"), "migrations.")
    defaults = MigrationSettings()
    version = (
        _int(raw["postgres_version"], "migrations.postgres_version", 9, 30)
        if "postgres_version" in raw
        else defaults.postgres_version
    )
    rollbacks = (
        _bool(raw["include_rollbacks"], "migrations.include_rollbacks")
        if "include_rollbacks" in raw
        else defaults.include_rollbacks
    )
    return MigrationSettings(postgres_version=version, include_rollbacks=rollbacks)
