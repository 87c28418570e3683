"""Run a rule on its own bad/good examples: shared by `ladder explain` and the test suite.

An example is Elixir source reviewed as `rule.example_path`; a project-wide rule's example may
hold several files, each introduced by a line `# file: path/to/file.ex`.
"""

from __future__ import annotations

import re

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


def run_example(rule: Rule, example: str, config: Config | None = None) -> list[Finding]:
    """The findings of `rule` alone on an example (the formatter is not started)."""
    config = config or Config()
    sources: list[SourceFile] = []
    for path, text in example_files(rule, example).items():
        prepared = prepare(path, text.encode(), config)
        if isinstance(prepared, SourceFile):
            sources.append(prepared)
    outcome = review(sources, config, rules=[rule], jobs=1)
    return [f for f in outcome.findings if f.rule == rule.id]
