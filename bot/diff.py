"""Unified diffs to changed lines, and the diff filter that decides which findings are shown.

Two sources feed this: `git diff` in the CLI and the per-file `patch` of GitHub's "list pull
request files" API in the App. Both are unified-diff hunks; `hunks` matters for the App because
GitHub accepts inline comments only on lines inside a hunk of the file's patch.

Filter modes (reviewdog's vocabulary): `added` keeps findings on added or changed lines,
`file` keeps every finding in a changed file, `all` keeps everything. Nothing is silently
dropped: the filter returns how many findings it left out, and reports count them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from checks.config import FilterMode
from checks.model import Finding, Rule

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass
class FileChange:
    """What changed in one file, in new-file line numbers."""

    path: str
    added: set[int] = field(default_factory=set)
    # (first, last) new-file lines of each hunk, context lines included.
    hunks: list[tuple[int, int]] = field(default_factory=list)
    status: str = "modified"  # added | modified | renamed | removed
    previous_path: str | None = None
    # The patch was not available (GitHub omits it for large diffs): review at file level.
    whole_file: bool = False

    @property
    def first_changed_line(self) -> int:
        if self.added:
            return min(self.added)
        if self.hunks:
            return self.hunks[0][0]
        return 1

    def in_hunk(self, line: int) -> bool:
        return any(start <= line <= end for start, end in self.hunks)


def parse_patch(patch: str, path: str = "") -> FileChange:
    """Parse the hunks of one file's patch (no `diff --git` header needed)."""
    change = FileChange(path=path)
    new_line = 0
    in_hunk = False
    for raw in _lines(patch):
        m = _HUNK.match(raw)
        if m is not None:
            new_line = int(m.group(3))
            count = int(m.group(4)) if m.group(4) is not None else 1
            if count > 0:
                change.hunks.append((new_line, new_line + count - 1))
            else:
                # A pure deletion: the hunk sits after line `new_line`.
                change.hunks.append((max(1, new_line), max(1, new_line)))
            in_hunk = True
            continue
        if not in_hunk:
            continue
        if raw.startswith("+"):
            change.added.add(new_line)
            new_line += 1
        elif raw.startswith("-"):
            continue
        elif raw.startswith("\\"):
            continue  # "\ No newline at end of file"
        else:
            new_line += 1
    return change


def parse_unified_diff(diff: str) -> dict[str, FileChange]:
    """Parse `git diff` output (several files) into changes keyed by new path."""
    changes: dict[str, FileChange] = {}
    blocks = re.split(r"^(?=diff --git )", diff, flags=re.MULTILINE)
    for block in blocks:
        if not block.startswith("diff --git "):
            continue
        old_path: str | None = None
        new_path: str | None = None
        status = "modified"
        for line in _lines(block):
            if line.startswith("@@"):
                break
            if line.startswith("--- "):
                old_path = _strip_prefix(line[4:])
            elif line.startswith("+++ "):
                new_path = _strip_prefix(line[4:])
            elif line.startswith("new file mode"):
                status = "added"
            elif line.startswith("deleted file mode"):
                status = "removed"
            elif line.startswith("rename from "):
                old_path = _unquote(line[len("rename from ") :])
                status = "renamed"
            elif line.startswith("rename to "):
                new_path = _unquote(line[len("rename to ") :])
        if new_path is None:
            header = _HEADER.match(_lines(block)[0])
            if header is None:
                continue
            new_path = _strip_prefix(header.group(1))
        if status == "removed" or new_path == "/dev/null":
            continue
        change = parse_patch(block, new_path)
        change.status = status
        change.previous_path = old_path if old_path not in (None, "/dev/null") else None
        changes[new_path] = change
    return changes


def _lines(text: str) -> list[str]:
    """Split on newlines only: `str.splitlines` also splits on form feeds, U+2028 and other
    separators that may sit inside a source line, which would shift every later line number."""
    return [line.removesuffix("\r") for line in text.split("\n")]


# `diff --git a/x b/x` or, for names git had to quote, `diff --git "a/x" "b/x"`.
_HEADER = re.compile(r'diff --git (?:"a/.*"|a/.*) ("b/.*"|b/.*)$')
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def _unquote(path: str) -> str:
    """Undo git's C-style quoting (`"caf\\303\\251.ex"`, used for non-ASCII and special
    characters unless core.quotePath is off) so the path names the real file."""
    path = path.rstrip("\t\r")
    if len(path) < 2 or not (path.startswith('"') and path.endswith('"')):
        return path
    body = path[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\" or i + 1 == len(body):
            out += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        nxt = body[i + 1]
        octal = body[i + 1 : i + 4]
        if len(octal) == 3 and all(ch in "01234567" for ch in octal):
            out.append(int(octal, 8) & 0xFF)
            i += 4
        elif nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        else:
            out += nxt.encode("utf-8", "surrogateescape")
            i += 2
    return out.decode("utf-8", errors="replace")


def _strip_prefix(path: str) -> str:
    path = _unquote(path.strip("\n").rstrip("\t\r "))
    if path.startswith(("a/", "b/")):
        return path[2:]
    return path


def whole_file_change(path: str, line_count: int, status: str = "added") -> FileChange:
    """A file with every line new (an untracked file, or a file reviewed as if new)."""
    lines = set(range(1, line_count + 1))
    return FileChange(
        path=path,
        added=lines,
        hunks=[(1, max(1, line_count))],
        status=status,
    )


@dataclass(frozen=True)
class Filtered:
    shown: list[Finding]
    outside: list[Finding]


def filter_findings(
    findings: Iterable[Finding],
    changes: Mapping[str, FileChange],
    mode: FilterMode,
    rules: Mapping[str, Rule],
) -> Filtered:
    """Keep the findings the mode asks for; file-level findings (a syntax error, an unformatted
    file) of a changed file are kept and moved to its first changed line when their own line
    did not change, since the change is what broke the file."""
    shown: list[Finding] = []
    outside: list[Finding] = []
    for finding in findings:
        if mode == "all":
            shown.append(finding)
            continue
        change = changes.get(finding.path)
        if change is None:
            outside.append(finding)
            continue
        if mode == "file" or change.whole_file:
            shown.append(finding)
            continue
        lines = range(finding.line, finding.end_line + 1)
        if any(line in change.added for line in lines):
            shown.append(finding)
            continue
        rule = rules.get(finding.rule)
        if rule is not None and rule.file_level:
            anchor = change.first_changed_line
            note = f" (at line {finding.line}; shown on the first changed line)"
            shown.append(
                replace(
                    finding,
                    line=anchor,
                    end_line=anchor,
                    column=1,
                    message=finding.message + note,
                    suggestion=None,
                )
            )
            continue
        outside.append(finding)
    return Filtered(shown, outside)
