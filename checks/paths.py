"""Glob matching with `**`, and the file kinds that decide which reviewers see a file.

`fnmatch` lets `*` cross `/` and has no `**`, so `priv/*/migrations/**/*.exs` would both
over- and under-match; these globs follow the gitignore-style meaning users expect.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from checks.model import FileKind

ELIXIR_SUFFIXES = (".ex", ".exs")
TEMPLATE_SUFFIXES = (".heex", ".eex", ".leex", ".sface")


@lru_cache(maxsize=512)
def _compile(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "{":
            end = pattern.find("}", i)
            if end == -1:
                out.append(re.escape(c))
                i += 1
            else:
                options = pattern[i + 1 : end].split(",")
                out.append("(?:" + "|".join(re.escape(o) for o in options) + ")")
                i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out) + r"\Z")


def glob_match(path: str, pattern: str) -> bool:
    """Match a POSIX relative path against a glob; a pattern without `/` matches any basename."""
    pattern = pattern.strip().lstrip("./") if pattern.startswith("./") else pattern.strip()
    if pattern.endswith("/"):
        pattern += "**"
    if "/" not in pattern:
        return bool(_compile(pattern).match(path.rsplit("/", 1)[-1]))
    return bool(_compile(pattern).match(path))


def any_match(path: str, patterns: Iterable[str]) -> bool:
    return any(glob_match(path, p) for p in patterns)


def is_reviewable(path: str) -> bool:
    return path.endswith(ELIXIR_SUFFIXES) or path.endswith(TEMPLATE_SUFFIXES)


def classify(
    path: str,
    *,
    migrations: Iterable[str],
    tests: Iterable[str],
    test_support: Iterable[str],
    config: Iterable[str],
) -> FileKind:
    """Decide what a file is, which decides the reviewers it gets."""
    if path.endswith(TEMPLATE_SUFFIXES):
        return "template"
    if any_match(path, migrations):
        return "migration"
    if any_match(path, test_support):
        return "test_support"
    if any_match(path, tests):
        return "test"
    if any_match(path, config):
        return "config"
    if path.endswith(".ex"):
        return "lib"
    return "script"
