"""The vocabulary every reviewer and every front end shares.

Nothing here does I/O. A rule is data plus a pure function; a finding is a frozen record; the
ladder result is computed from findings alone. Keeping these types free of GitHub, aiohttp and
the file system is what lets the same reviewers run in the CLI, the service and the tests.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from checks.context import FileContext, ProjectContext

LEVELS: tuple[int, ...] = tuple(range(8))
LEVEL_NAMES: tuple[str, ...] = tuple(f"L{n}" for n in LEVELS)

LEVEL_TITLES: Mapping[int, str] = {
    0: "compiles cleanly",
    1: "formatted",
    2: "static analysis",
    3: "tested",
    4: "typed",
    5: "secure",
    6: "observable",
    7: "documented",
}

RULE_ID = re.compile(r"^L([0-7])\.[a-z0-9]+(?:-[a-z0-9]+)*$")


class Severity(enum.StrEnum):
    """How much a finding matters: errors and warnings block their level, notices only inform."""

    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"

    @property
    def blocks(self) -> bool:
        return self is not Severity.NOTICE

    @property
    def rank(self) -> int:
        """Sort key: most important first."""
        return {"error": 0, "warning": 1, "notice": 2}[self.value]


FileKind = Literal["lib", "test", "test_support", "config", "migration", "script", "template"]
ELIXIR_KINDS: frozenset[FileKind] = frozenset(
    {"lib", "test", "test_support", "config", "migration", "script"}
)
ALL_KINDS: frozenset[FileKind] = ELIXIR_KINDS | {"template"}


def level_name(level: int | None) -> str | None:
    return None if level is None else f"L{level}"


def parse_level(text: str) -> int:
    """Parse "L3" (or "3") into 3; raise ValueError with a readable message otherwise."""
    m = re.fullmatch(r"[Ll]?([0-7])", str(text).strip())
    if not m:
        raise ValueError(f"expected a level L0..L7, got {text!r}")
    return int(m.group(1))


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem at one place. `level` always comes from the rule id, never typed by hand."""

    path: str
    line: int
    end_line: int
    column: int
    level: int
    rule: str
    severity: Severity
    message: str
    fix: str | None = None
    # Exact replacement text for lines line..end_line (a GitHub ```suggestion block).
    suggestion: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "end_line": self.end_line,
            "column": self.column,
            "level": f"L{self.level}",
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "fix": self.fix,
        }

    @property
    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.column, self.rule, self.message)


FileCheck = Callable[["FileContext"], Iterable[Finding]]
ProjectCheck = Callable[["ProjectContext"], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """A rule's identity, its words and its check.

    `explanation`, `bad_example` and `good_example` are what `ladder explain` prints and what the
    tests run: the bad example must produce a finding of this rule, the good one must not.
    `params` holds the defaults of the rule's tunables; `.github/ladder.yml` may override them.
    `credo`, `sobelow` and `excellent_migrations` name the checks of those tools this rule
    overlaps, so their inline disable comments keep working.
    """

    id: str
    severity: Severity
    title: str
    explanation: str
    bad_example: str
    good_example: str
    applies_to: frozenset[FileKind] = ELIXIR_KINDS
    params: Mapping[str, Any] = field(default_factory=dict)
    credo: tuple[str, ...] = ()
    sobelow: tuple[str, ...] = ()
    excellent_migrations: tuple[str, ...] = ()
    check: FileCheck | None = None
    # Project-wide rules: `summarize` runs per file (in any worker process) and returns picklable
    # data; `check_project` then sees every file's summary at once.
    summarize: Callable[[FileContext], Any] | None = None
    check_project: ProjectCheck | None = None
    # The file kind the examples are reviewed as (and their path in tests).
    example_path: str = "lib/example.ex"
    # Whether the rule needs the Elixir helper (reported as skipped without it).
    needs_elixir: bool = False
    # File-level findings (a syntax error, an unformatted file) are kept whenever their file
    # changed, anchored on the first changed line when their own line did not change.
    file_level: bool = False
    # Text-only rules still run on a file with a syntax error; structural ones do not.
    runs_on_broken_files: bool = False

    def __post_init__(self) -> None:
        if not RULE_ID.match(self.id):
            raise ValueError(f"rule id {self.id!r} must look like L<level>.<kebab-slug>")
        if self.check is None and self.check_project is None:
            raise ValueError(f"rule {self.id} has no check")

    @property
    def level(self) -> int:
        return int(self.id[1])


LevelStatus = Literal["pass", "fail", "skipped"]


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


@dataclass(frozen=True)
class LevelResult:
    status: LevelStatus
    findings: int
    blocking: int
    # Why a level is skipped (e.g. "formatter needs the elixir toolchain").
    note: str | None = None


@dataclass(frozen=True)
class LadderResult:
    """Everything a reporter needs; computed from findings, never from the reporters' needs."""

    findings: tuple[Finding, ...]
    reached: int | None
    required: int
    levels: Mapping[int, LevelResult]
    crashed_rules: tuple[str, ...] = ()
    skipped_files: tuple[SkippedFile, ...] = ()
    # Messages worth saying once per report (plugins not run, version skew, ...).
    notes: tuple[str, ...] = ()
    # Findings that the diff filter left out, by level (reported as counts, never lost).
    outside_diff: int = 0
    files_reviewed: int = 0

    @property
    def passed(self) -> bool:
        return self.reached is not None and self.reached >= self.required

    def verdict(self) -> str:
        reached = "nothing (L0 fails)" if self.reached is None else f"L{self.reached}"
        return f"reached {reached}, requires L{self.required}"

    def to_json(self) -> dict[str, Any]:
        """The stable CLI contract of ARCHITECTURE.md; tests and other tools read it."""
        return {
            "version": 1,
            "required": f"L{self.required}",
            "reached": level_name(self.reached),
            "levels": {
                f"L{n}": {"status": self.levels[n].status, "findings": self.levels[n].findings}
                for n in LEVELS
            },
            "findings": [f.to_json() for f in self.findings],
            "skipped": [s.to_json() for s in self.skipped_files],
        }
