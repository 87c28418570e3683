"""Run a rule on its own bad/good examples: shared by `ladder explain` and the test suite.

An example is Elixir source reviewed as `rule.example_path`; a project-wide rule's example may
hold several files, each introduced by a line `# file: path/to/file.ex`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from checks.config import Config
from checks.context import SourceFile
from checks.ladder import review
from checks.model import Finding, Rule
from checks.sources import prepare

_FILE_MARKER = re.compile(r"^# file: (\S+)[ \t]*\n", re.MULTILINE)


def example_files(rule: Rule, example: str) -> dict[str, str]:
    """Split an example into {path: text}; a plain example is one file at rule.example_path."""
    parts = _FILE_MARKER.split(example)
    if len(parts) == 1:
        return {rule.example_path: example}
    files: dict[str, str] = {}
    for i in range(1, len(parts), 2):
        files[parts[i]] = parts[i + 1]
    return files


def run_rule(
    rule: Rule, files: Mapping[str, str], config: Config | None = None, *, strict: bool = False
) -> list[Finding]:
    """The findings of `rule` alone on in-memory files (the formatter is not started). With
    `strict`, a file the engine would skip or a crash of the rule is an error, not a silence."""
    config = config or Config()
    sources: list[SourceFile] = []
    for path, text in files.items():
        prepared = prepare(path, text.encode(), config)
        if isinstance(prepared, SourceFile):
            sources.append(prepared)
        elif strict:
            raise ValueError(f"{path} would be skipped: {prepared.reason}")
    outcome = review(sources, config, rules=[rule], jobs=1)
    if strict and outcome.crashed:
        raise RuntimeError(f"rule crashed: {outcome.crashed}")
    return [f for f in outcome.findings if f.rule == rule.id]


def run_example(rule: Rule, example: str, config: Config | None = None) -> list[Finding]:
    """The findings of `rule` alone on one of its examples."""
    return run_rule(rule, example_files(rule, example), config)
