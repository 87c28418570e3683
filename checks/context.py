"""What a reviewer sees: one parsed file (FileContext) or every file's summary (ProjectContext).

A FileContext is built once per file and shared by every rule: the tree, the index of the nodes
rules dispatch on, the module model and the lines are all computed at most once, lazily.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from tree_sitter import Node, Tree

from checks import elixir, suppress
from checks.config import Config
from checks.model import FileKind, Finding, Rule, Severity

if TYPE_CHECKING:
    from checks.formatter import FormatResult


T = TypeVar("T")


def split_lines(text: str) -> list[str]:
    """Split on "\n" only (a trailing "\r" is dropped): `str.splitlines` also breaks on form
    feeds, U+2028 and friends, which would shift every later line number."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


@dataclass(frozen=True)
class SourceFile:
    """A file ready to review: decoded text, its kind, and why it may be partial."""

    path: str
    kind: FileKind
    text: str
    # Set when the bytes were not valid UTF-8 and were decoded with replacement characters.
    decode_problem: str | None = None


@dataclass
class FileContext:
    source_file: SourceFile
    config: Config
    tree: Tree
    # The Elixir helper's verdict for this file, when the helper ran.
    format_result: FormatResult | None = None
    # The options the formatter used for this file (line length etc.).
    line_length: int = 98
    # The UTF-8 bytes the tree was parsed from (tree-sitter positions index these).
    source: bytes = b""
    # Per-file analyses shared by several rules of one area (e.g. the migration model), keyed by
    # a name the area owns. Lives and dies with the context, so nothing leaks across files.
    memo: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        source_file: SourceFile,
        config: Config,
        *,
        format_result: FormatResult | None = None,
        line_length: int = 98,
    ) -> FileContext:
        data = b"" if source_file.kind == "template" else source_file.text.encode("utf-8")
        return cls(source_file, config, elixir.parse(data), format_result, line_length, data)

    @property
    def path(self) -> str:
        return self.source_file.path

    @property
    def kind(self) -> FileKind:
        return self.source_file.kind

    @property
    def text(self) -> str:
        return self.source_file.text

    @property
    def root(self) -> Node:
        return self.tree.root_node

    @property
    def has_syntax_error(self) -> bool:
        if self.format_result is not None and self.format_result.syntax_error is not None:
            return True
        return self.kind != "template" and self.tree.root_node.has_error

    @cached_property
    def lines(self) -> list[str]:
        """The file's lines without their line endings (index 0 is line 1), numbered as
        tree-sitter and editors number them."""
        return split_lines(self.text)

    @cached_property
    def index(self) -> elixir.Index:
        return elixir.Index.build(self.tree, self.source)

    @cached_property
    def suppressions(self) -> list[suppress.Suppression]:
        """Inline suppression comments (ladder:, credo:, sobelow_skip, excellent_migrations:)."""
        if not suppress.may_contain(self.text):
            return []
        # The def calls only matter to `# sobelow_skip` (it covers the function that follows).
        wanted = "sobelow_skip" in self.text and not self.has_syntax_error
        defs = self.index.calls_named(*elixir.DEF_KINDS) if wanted else ()
        return suppress.find(self.text, self.lines, self.tree, defs)

    @cached_property
    def modules(self) -> list[elixir.Module]:
        return elixir.modules(self.index)

    def param(self, rule: Rule, name: str) -> Any:
        return self.config.param(rule, name)

    def shared(self, key: str, factory: Callable[[], T]) -> T:
        """`factory()` computed once per file and shared by every rule that asks for `key`."""
        if key not in self.memo:
            self.memo[key] = factory()
        value: T = self.memo[key]
        return value

    def finding(
        self,
        rule: Rule,
        at: Node | int,
        message: str,
        *,
        fix: str | None = None,
        suggestion: str | None = None,
        end_line: int | None = None,
        column: int | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding of `rule` at a node (its span) or at a 1-based line."""
        if isinstance(at, int):
            line, last, col = at, at, 1
        else:
            line, last, col = elixir.line_of(at), elixir.end_line_of(at), elixir.column_of(at)
        return Finding(
            path=self.path,
            line=line,
            end_line=max(line, end_line if end_line is not None else last),
            column=column if column is not None else col,
            level=rule.level,
            rule=rule.id,
            severity=severity or rule.severity,
            message=message,
            fix=fix,
            suggestion=suggestion,
        )


@dataclass(frozen=True)
class FileSummary:
    """What a project-wide rule keeps of a file after the per-file pass (picklable)."""

    path: str
    kind: FileKind
    data: Any


@dataclass
class ProjectContext:
    """Every reviewed file's summary per project rule, for rules that relate files (lib vs test).

    `changed` lists the paths under review (all of them in `ladder check`, the PR's files in the
    App); context files fetched only to answer questions (tests of a changed module) are in
    `summaries` but not in `changed`.
    """

    config: Config
    summaries: Mapping[str, Sequence[FileSummary]]
    changed: frozenset[str] = field(default_factory=frozenset)

    def of(self, rule: Rule) -> Sequence[FileSummary]:
        return self.summaries.get(rule.id, ())

    def param(self, rule: Rule, name: str) -> Any:
        return self.config.param(rule, name)

    def finding(
        self,
        rule: Rule,
        path: str,
        line: int,
        message: str,
        *,
        end_line: int | None = None,
        column: int = 1,
        fix: str | None = None,
    ) -> Finding:
        return Finding(
            path=path,
            line=line,
            end_line=end_line or line,
            column=column,
            level=rule.level,
            rule=rule.id,
            severity=rule.severity,
            message=message,
            fix=fix,
        )
