""".github/ladder.yml is parsed strictly: a typo must be an error naming the key, never a rule
silently switched back on or off.

Most tests run against a fixed set of stand-in rules (patched into bot.repo_config) so that they
do not move when reviewers are added; a few use the real registry to prove the wiring.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import repo_config
from bot.repo_config import ConfigError, find_config, load_file, parse
from checks.config import (
    DEFAULT_CONFIG,
    DEFAULT_MIGRATIONS,
    DEFAULT_TEST_SUPPORT,
    DEFAULT_TESTS,
    Config,
    FormatterSettings,
    MigrationSettings,
    PathsConfig,
    RuleSetting,
)
from checks.model import Rule, Severity
from checks.registry import rules_by_id


def _noop(ctx):
    return []


def _rule(rule_id: str, **params) -> Rule:
    return Rule(
        id=rule_id,
        severity=Severity.WARNING,
        title="Stand-in rule",
        explanation="A rule that exists only so the config parser has something to validate.",
        bad_example="",
        good_example="",
        params=params,
        check=_noop,
    )


FAKE_RULES = (
    _rule("L2.fake-long-function", max_lines=60, strict=False, ratio=0.5, style="short"),
    _rule("L2.fake-lists", names=("IO.inspect",), sizes=(1, 2), anything=()),
    _rule("L4.fake-spec"),
    _rule("L6.fake-log-level"),
    _rule("L6.fake-telemetry"),
)


@pytest.fixture
def fake_rules(monkeypatch):
    monkeypatch.setattr(repo_config, "all_rules", lambda: FAKE_RULES)
    return FAKE_RULES


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse(text)
    return str(info.value)


# --- empty and top level ------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n", "---\n", b""])
def test_empty_file_means_defaults(text):
    config = parse(text)
    assert config == Config(source=".github/ladder.yml")
    assert config.required_level == 3
    assert config.filter == "added"


@pytest.mark.parametrize("text", ["- L3\n", "just a string\n", "42\n", "[rules]\n"])
def test_top_level_must_be_a_mapping(text):
    message = _error(text)
    assert "expected a mapping" in message
    assert message.startswith(".github/ladder.yml")


def test_source_is_named_in_messages():
    with pytest.raises(ConfigError, match=r"^custom\.yml: expected a mapping"):
        parse("- x\n", source="custom.yml")


def test_unknown_top_level_key_is_named():
    message = _error("required_level: L2\nrequired_levle: L3\n")
    assert message.startswith("required_levle: unknown key")
    assert "required_level" in message  # the list of what is allowed


def test_every_documented_key_is_accepted(fake_rules):
    config = parse(
        """
required_level: L5
exclude: ["lib/generated/**", "priv/legacy/*.ex"]
rules:
  L4.fake-spec: notice
  L2.fake-long-function: {max_lines: 80}
  L6.*: warning
formatter: {line_length: 120, elixir: false}
paths:
  migrations: ["db/migrations/**/*.exs"]
  tests: ["spec/**/*_spec.exs"]
  test_support: ["spec/support/**"]
  config: ["conf/**/*.exs"]
migrations: {postgres_version: 15, include_rollbacks: true}
filter: file
max_inline_comments: 10
review_drafts: true
"""
    )
    assert config.required_level == 5
    assert config.exclude == ("lib/generated/**", "priv/legacy/*.ex")
    assert config.rules["L4.fake-spec"] == RuleSetting(severity=Severity.NOTICE)
    assert config.rules["L2.fake-long-function"].params == {"max_lines": 80}
    assert config.rules["L2.fake-long-function"].enabled
    assert config.rules["L6.fake-log-level"].severity is Severity.WARNING
    assert config.formatter == FormatterSettings(line_length=120, elixir=False)
    assert config.paths == PathsConfig(
        migrations=("db/migrations/**/*.exs",),
        tests=("spec/**/*_spec.exs",),
        test_support=("spec/support/**",),
        config=("conf/**/*.exs",),
    )
    assert config.migrations == MigrationSettings(postgres_version=15, include_rollbacks=True)
    assert config.filter == "file"
    assert config.max_inline_comments == 10
    assert config.review_drafts is True


# --- required_level -----------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "level"), [("L0", 0), ("l7", 7), ("3", 3), ("4", 4)])
def test_required_level_forms(raw, level):
    assert parse(f"required_level: {raw}\n").required_level == level


@pytest.mark.parametrize("raw", ["L8", "L", "high", "-1", "[L3]", "true"])
def test_required_level_bad_values(raw):
    message = _error(f"required_level: {raw}\n")
    assert message.startswith("required_level: expected a level L0..L7")


# --- exclude and paths --------------------------------------------------------------------------


def test_exclude_accepts_a_single_string():
    assert parse("exclude: lib/generated/**\n").exclude == ("lib/generated/**",)


@pytest.mark.parametrize("raw", ["42", "[1, 2]", '[""]', "{a: b}", "[[x]]"])
def test_exclude_bad_values(raw):
    assert _error(f"exclude: {raw}\n").startswith("exclude: expected a list of glob strings")


def test_paths_keep_defaults_for_keys_not_given():
    config = parse("paths: {tests: ['spec/**/*.exs']}\n")
    assert config.paths.tests == ("spec/**/*.exs",)
    assert config.paths.migrations == DEFAULT_MIGRATIONS
    assert config.paths.test_support == DEFAULT_TEST_SUPPORT
    assert config.paths.config == DEFAULT_CONFIG


def test_default_paths_are_phoenix_conventions():
    paths = parse("").paths
    assert paths.tests == DEFAULT_TESTS
    assert "priv/*/migrations/**/*.exs" in paths.migrations


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("paths: {fixtures: [x]}\n", "paths.fixtures: unknown key"),
        ("paths: {tests: 3}\n", "paths.tests: expected a list of glob strings"),
        ("paths: {migrations: [1]}\n", "paths.migrations: expected a list of glob strings"),
        ("paths: [tests]\n", "paths: expected a mapping"),
    ],
)
def test_paths_errors_name_the_key(text, key):
    assert _error(text).startswith(key)


# --- formatter ----------------------------------------------------------------------------------


def test_formatter_defaults():
    assert parse("formatter: {}\n").formatter == FormatterSettings(line_length=None, elixir=True)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("formatter: {line_length: 30}\n", "formatter.line_length: expected a value from 40"),
        ("formatter: {line_length: 501}\n", "formatter.line_length: expected a value from 40"),
        ("formatter: {line_length: '98'}\n", "formatter.line_length: expected an integer"),
        ("formatter: {line_length: true}\n", "formatter.line_length: expected an integer"),
        ("formatter: {line_length: 9.5}\n", "formatter.line_length: expected an integer"),
        ("formatter: {elixir: maybe}\n", "formatter.elixir: expected true or false"),
        ("formatter: {plugins: [Styler]}\n", "formatter.plugins: unknown key"),
        ("formatter: 98\n", "formatter: expected a mapping"),
    ],
)
def test_formatter_errors_name_the_key(text, key):
    assert _error(text).startswith(key)


def test_formatter_elixir_off_in_yaml_1_1_spelling():
    assert parse("formatter: {elixir: off}\n").formatter.elixir is False
    assert parse("formatter: {elixir: no}\n").formatter.elixir is False


# --- migrations, filter, max_inline_comments, review_drafts -------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("migrations: {postgres_version: 8}\n", "migrations.postgres_version: expected a value"),
        ("migrations: {postgres_version: '15'}\n", "migrations.postgres_version: expected an"),
        ("migrations: {include_rollbacks: 1}\n", "migrations.include_rollbacks: expected true"),
        ("migrations: {mysql: true}\n", "migrations.mysql: unknown key"),
        ("migrations: true\n", "migrations: expected a mapping"),
        ("filter: nofilter\n", "filter: expected added, file or all"),
        ("filter: [added]\n", "filter: expected added, file or all"),
        ("max_inline_comments: -1\n", "max_inline_comments: expected a value from 0 to 100"),
        ("max_inline_comments: 101\n", "max_inline_comments: expected a value from 0 to 100"),
        ("max_inline_comments: many\n", "max_inline_comments: expected an integer"),
        ("review_drafts: sometimes\n", "review_drafts: expected true or false"),
    ],
)
def test_scalar_errors_name_the_key(text, key):
    assert _error(text).startswith(key)


def test_migration_defaults_survive_a_partial_mapping():
    config = parse("migrations: {include_rollbacks: true}\n")
    assert config.migrations.postgres_version == MigrationSettings().postgres_version
    assert config.migrations.include_rollbacks is True


@pytest.mark.parametrize("mode", ["added", "file", "all"])
def test_filter_modes(mode):
    assert parse(f"filter: {mode}\n").filter == mode


# --- rules: severities, off, globs --------------------------------------------------------------


@pytest.mark.parametrize("word", ["off", "Off", "OFF", "false", "no", "'off'"])
def test_yaml_off_parsed_as_false_still_means_off(fake_rules, word):
    config = parse(f"rules:\n  L4.fake-spec: {word}\n")
    assert config.rules["L4.fake-spec"].enabled is False
    assert not config.enabled(FAKE_RULES[2])


@pytest.mark.parametrize("word", ["on", "true", "yes"])
def test_yaml_on_parsed_as_true_keeps_the_rule_on(fake_rules, word):
    setting = parse(f"rules:\n  L4.fake-spec: {word}\n").rules["L4.fake-spec"]
    assert setting == RuleSetting()


@pytest.mark.parametrize("word", ["notice", "warning", "error", "Warning"])
def test_severity_words(fake_rules, word):
    setting = parse(f"rules:\n  L4.fake-spec: {word}\n").rules["L4.fake-spec"]
    assert setting.enabled
    assert setting.severity is Severity(word.lower())


@pytest.mark.parametrize("raw", ["warn", "info", "3", "null", "[error]"])
def test_bad_severity_names_the_rule(fake_rules, raw):
    message = _error(f"rules:\n  L4.fake-spec: {raw}\n")
    assert message.startswith("rules.L4.fake-spec: expected off, notice, warning or error")


def test_severity_and_enabled_inside_a_mapping(fake_rules):
    config = parse(
        "rules:\n"
        "  L4.fake-spec: {severity: error}\n"
        "  L6.fake-log-level: {enabled: false}\n"
        "  L6.fake-telemetry: {severity: off}\n"
    )
    assert config.rules["L4.fake-spec"] == RuleSetting(severity=Severity.ERROR)
    assert not config.rules["L6.fake-log-level"].enabled
    assert not config.rules["L6.fake-telemetry"].enabled


def test_severity_inside_mapping_is_validated(fake_rules):
    message = _error("rules:\n  L4.fake-spec: {severity: loud}\n")
    assert message.startswith("rules.L4.fake-spec.severity: expected off, notice")
    message = _error("rules:\n  L4.fake-spec: {enabled: maybe}\n")
    assert message.startswith("rules.L4.fake-spec.enabled: expected true or false")


def test_glob_applies_to_every_matching_rule(fake_rules):
    config = parse("rules:\n  L6.*: warning\n")
    assert set(config.rules) == {"L6.fake-log-level", "L6.fake-telemetry"}
    assert all(s.severity is Severity.WARNING for s in config.rules.values())


def test_glob_off_then_level_wide(fake_rules):
    config = parse("rules:\n  L2.*: off\n")
    assert not config.rules["L2.fake-long-function"].enabled
    assert not config.rules["L2.fake-lists"].enabled
    assert "L4.fake-spec" not in config.rules


def test_exact_id_beats_glob_whatever_the_order(fake_rules):
    for text in (
        "rules:\n  L6.*: off\n  L6.fake-telemetry: error\n",
        "rules:\n  L6.fake-telemetry: error\n  L6.*: off\n",
    ):
        config = parse(text)
        assert not config.rules["L6.fake-log-level"].enabled, text
        assert config.rules["L6.fake-telemetry"] == RuleSetting(severity=Severity.ERROR), text


def test_params_only_entry_does_not_switch_a_globbed_off_rule_back_on(fake_rules):
    config = parse("rules:\n  L2.*: off\n  L2.fake-long-function: {max_lines: 10}\n")
    setting = config.rules["L2.fake-long-function"]
    assert setting.enabled is False
    assert setting.params == {"max_lines": 10}


def test_params_only_entry_keeps_a_globbed_severity(fake_rules):
    config = parse("rules:\n  L2.fake-long-function: {max_lines: 10}\n  L2.*: notice\n")
    setting = config.rules["L2.fake-long-function"]
    assert setting.severity is Severity.NOTICE
    assert setting.params == {"max_lines": 10}


@pytest.mark.parametrize(
    ("yaml_key", "key"),
    [
        ("L4.spec-mising", "L4.spec-mising"),
        ("L9.*", "L9.*"),
        ("L6.fake", "L6.fake"),
        ("l4.fake-spec", "l4.fake-spec"),
        ("'*-nope'", "*-nope"),
    ],
)
def test_unknown_rule_or_glob_matching_nothing(fake_rules, yaml_key, key):
    message = _error(f"rules:\n  {yaml_key}: off\n")
    assert message.startswith(f"rules.{key}: no such rule")


def test_a_bare_leading_star_is_a_yaml_alias_and_reported_as_such(fake_rules):
    assert "invalid YAML (line 2, column 3)" in _error("rules:\n  *-spec: off\n")


def test_rule_ids_must_be_strings(fake_rules):
    assert _error("rules:\n  4: off\n").startswith("rules: rule ids are strings")


def test_rules_must_be_a_mapping(fake_rules):
    assert _error("rules: [L4.fake-spec]\n").startswith("rules: expected a mapping")


# --- rules: parameters --------------------------------------------------------------------------


def test_params_of_every_type(fake_rules):
    config = parse(
        "rules:\n"
        "  L2.fake-long-function: {max_lines: 0, strict: true, ratio: 2, style: long}\n"
        "  L2.fake-lists: {names: [Logger.debug, dbg], sizes: [], anything: [1, a, true]}\n"
    )
    assert config.rules["L2.fake-long-function"].params == {
        "max_lines": 0,
        "strict": True,
        "ratio": 2,
        "style": "long",
    }
    lists = config.rules["L2.fake-lists"].params
    assert lists["names"] == ("Logger.debug", "dbg")
    assert lists["sizes"] == ()
    assert lists["anything"] == (1, "a", True)
    assert config.param(FAKE_RULES[1], "names") == ("Logger.debug", "dbg")
    assert config.param(FAKE_RULES[0], "ratio") == 2


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "{max_lines: sixty}",
            "rules.L2.fake-long-function.max_lines: expected int, got 'sixty'",
        ),
        ("{max_lines: true}", "rules.L2.fake-long-function.max_lines: expected int, got True"),
        ("{max_lines: 6.5}", "rules.L2.fake-long-function.max_lines: expected int, got 6.5"),
        ("{max_lines: -3}", "rules.L2.fake-long-function.max_lines: expected a non-negative"),
        ("{strict: 1}", "rules.L2.fake-long-function.strict: expected bool, got 1"),
        ("{ratio: fast}", "rules.L2.fake-long-function.ratio: expected float, got 'fast'"),
        ("{ratio: false}", "rules.L2.fake-long-function.ratio: expected float, got False"),
        ("{style: 3}", "rules.L2.fake-long-function.style: expected str, got 3"),
        ("{max_line: 3}", "rules.L2.fake-long-function.max_line: unknown parameter"),
    ],
)
def test_param_type_errors_name_the_param(fake_rules, entry, message):
    assert _error(f"rules:\n  L2.fake-long-function: {entry}\n").startswith(message)


def test_unknown_parameter_lists_the_allowed_ones(fake_rules):
    message = _error("rules:\n  L2.fake-long-function: {maxlines: 3}\n")
    assert "severity, enabled, max_lines, strict, ratio, style" in message


def test_rule_without_params_allows_only_severity_and_enabled(fake_rules):
    message = _error("rules:\n  L4.fake-spec: {max: 3}\n")
    assert (
        message
        == "rules.L4.fake-spec.max: unknown parameter (expected one of: severity, enabled)"
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{names: IO.inspect}", "rules.L2.fake-lists.names: expected a list, got 'IO.inspect'"),
        ("{names: [IO.inspect, 3]}", "rules.L2.fake-lists.names: expected str items, got 3"),
        ("{sizes: [1, two]}", "rules.L2.fake-lists.sizes: expected int items, got 'two'"),
        ("{sizes: [true]}", "rules.L2.fake-lists.sizes: expected int items, got True"),
    ],
)
def test_list_params_are_type_checked(fake_rules, entry, message):
    assert _error(f"rules:\n  L2.fake-lists: {entry}\n").startswith(message)


def test_glob_with_params_checks_each_matched_rule(fake_rules):
    # L2.* matches a rule without `max_lines`: the parameter is unknown there.
    message = _error("rules:\n  L2.*: {max_lines: 3}\n")
    assert message.startswith("rules.L2.*.max_lines: unknown parameter")


# --- YAML problems ------------------------------------------------------------------------------


def test_invalid_yaml_reports_line_and_column():
    message = _error("required_level: L3\nrules:\n  L4.spec-missing: [off\n  other: x\n")
    assert "invalid YAML (line " in message
    assert ", column " in message


def test_invalid_yaml_position_is_one_based():
    message = _error("required_level: L3\nexclude: 'unterminated\n")
    assert message.startswith(".github/ladder.yml: invalid YAML (line 3, column 1)")
    message = _error("a: b\n\tc: d\n")
    assert "(line 2, column 1)" in message


def test_tab_indentation_is_a_yaml_error():
    assert "invalid YAML" in _error("rules:\n\tL4.spec-missing: off\n")


def test_duplicate_key_is_an_error_not_silently_last_wins():
    message = _error("rules: {}\nrequired_level: L2\nrules: {}\n")
    assert "duplicate key 'rules' (first given on line 1)" in message
    assert "(line 3, column 1)" in message


def test_duplicate_rule_id_is_an_error(fake_rules):
    message = _error("rules:\n  L4.fake-spec: off\n  L4.fake-spec: error\n")
    assert "duplicate key 'L4.fake-spec'" in message


def test_yaml_merge_keys_may_be_overridden():
    text = "formatter: &f {line_length: 100, elixir: true}\n"
    # Only top-level keys from the schema are allowed, so use an anchor inside a section.
    text += "migrations:\n  <<: {postgres_version: 12}\n  postgres_version: 14\n"
    assert parse(text).migrations.postgres_version == 14


def test_yaml_tags_that_build_objects_are_refused():
    assert "invalid YAML" in _error("required_level: !!python/object:os.system ls\n")


def test_non_utf8_and_oversized_files():
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        parse(b"required_level: L\xff\n")
    with pytest.raises(ConfigError, match="larger than"):
        parse(b"#" * (repo_config.MAX_CONFIG_BYTES + 1))


# --- files on disk ------------------------------------------------------------------------------


def test_find_config_order(tmp_path: Path):
    assert find_config(tmp_path) is None
    (tmp_path / ".ladder.yml").write_text("required_level: L1\n")
    assert find_config(tmp_path) == tmp_path / ".ladder.yml"
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "ladder.yml").write_text("required_level: L2\n")
    assert find_config(tmp_path) == tmp_path / ".github" / "ladder.yml"
    assert load_file(find_config(tmp_path)).required_level == 2


def test_load_file_names_the_file(tmp_path: Path):
    path = tmp_path / "ladder.yml"
    path.write_text("bogus: 1\n")
    with pytest.raises(ConfigError, match=r"^bogus: unknown key"):
        load_file(path)
    path.write_text("- x\n")
    with pytest.raises(ConfigError, match=f"^{path}: expected a mapping"):
        load_file(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_file(tmp_path / "missing.yml")
    empty = tmp_path / "empty.yml"
    empty.write_text("")
    assert load_file(empty) == Config(source=str(empty))


# --- the real registry --------------------------------------------------------------------------


def test_real_rule_ids_are_accepted():
    config = parse("rules:\n  L4.spec-missing: notice\n  L4.*: {enabled: true}\n")
    rule = rules_by_id()["L4.spec-missing"]
    assert config.severity(rule) is Severity.NOTICE
    assert config.enabled(rule)


def test_real_rule_params_are_checked_against_their_defaults():
    rule = rules_by_id()["L4.spec-vague-type"]
    assert "allow" in rule.params
    config = parse("rules:\n  L4.spec-vague-type: {allow: [MyApp.Types]}\n")
    assert config.param(rule, "allow") == ("MyApp.Types",)
    assert _error("rules:\n  L4.spec-vague-type: {allow: MyApp}\n").startswith(
        "rules.L4.spec-vague-type.allow: expected a list"
    )
