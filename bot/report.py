"""Render a review for GitHub: check-run title, summary and annotations, inline review comments
with hidden fingerprints, the review body and the `/ladder explain` replies.

Pure functions from findings to strings and dicts, no I/O: the orchestrator decides what to post
and when, this module decides what it says and guarantees GitHub's limits, so a large pull
request can never make a write fail with 422:

- check-run `output.summary` <= 65535 characters, `annotations` <= 50 per request, annotation
  `title` <= 255 characters and `message`/`raw_details` <= 64 KB;
- comment bodies < 65536 characters ("Body is too long (maximum is 65536 characters)");
- an inline comment's `line` and `start_line` inside one hunk of the file's patch, or GitHub
  rejects the whole review ("line must be part of the diff").

Sizes are measured in UTF-8 bytes: never fewer than the characters GitHub counts, so the limits
hold whichever way they are read.

Everything shown to people is ordered most important first (`importance`): blocking findings
before notices, then severity, then the lower level (the ladder climbs from L0), then position.
"""

# No `from __future__ import annotations`: it would bind the name `annotations`, which this
# module's public API defines as a function (Python 3.11 needs no future import for `X | None`).
import hashlib
import heapq
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from bot import __version__
from bot.diff import FileChange
from checks.model import LEVEL_TITLES, LEVELS, Finding, LadderResult, Rule, Severity

T = TypeVar("T")

Conclusion = Literal["success", "failure", "neutral"]

SUMMARY_LIMIT = 65535
# Issue and review comment bodies: GitHub answers 422 from 65536 characters on.
BODY_LIMIT = 65535
# Annotation `message` and `raw_details`: "The maximum size is 64 KB" (read as 64000 to be safe).
ANNOTATION_TEXT_LIMIT = 64_000
TITLE_LIMIT = 255
ANNOTATIONS_PER_REQUEST = 50
TOP_FINDINGS = 20
# How many findings outside the diff the summary names (the rest are only counted).
OUTSIDE_LISTED = 10
# Lists of at most this many entries stay open; longer ones fold into <details>.
OPEN_LIST = 5
# Longest message text in a summary list entry; the annotation carries the full text.
ITEM_TEXT = 400

_ICON: Mapping[str, str] = {"success": "✅", "failure": "❌", "neutral": "⚪"}
_STATUS: Mapping[str, str] = {"pass": "✅ pass", "fail": "❌ fail", "skipped": "⏭️ skipped"}
_ANNOTATION_LEVEL: Mapping[Severity, str] = {
    Severity.ERROR: "failure",
    Severity.WARNING: "warning",
    Severity.NOTICE: "notice",
}


# --- ordering -----------------------------------------------------------------------------------


def importance(finding: Finding) -> tuple[int, int, int, str, int, int, str, str]:
    """Sort key, most important first: what blocks the ladder, then severity, then the lowest
    level (a broken L1 matters before an L5 finding, since the climb stops there), then place."""
    return (
        0 if finding.severity.blocks else 1,
        finding.severity.rank,
        finding.level,
        finding.path,
        finding.line,
        finding.column,
        finding.rule,
        finding.message,
    )


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=importance)


# --- check run: conclusion, title ---------------------------------------------------------------


def _nothing_reviewed(result: LadderResult | None) -> bool:
    return result is None or (result.files_reviewed == 0 and not result.findings)


def conclusion(result: LadderResult | None) -> Conclusion:
    """`neutral` when there was nothing to judge (no Elixir file changed): a red or green mark
    would claim a verdict the bot never reached."""
    if result is None or _nothing_reviewed(result):
        return "neutral"
    return "success" if result.passed else "failure"


def title(result: LadderResult | None) -> str:
    if result is None or _nothing_reviewed(result):
        return "Nothing to review"
    head = "L0 fails" if result.reached is None else f"Reached L{result.reached}"
    return _clip(f"{head} · requires L{result.required}", TITLE_LIMIT)


# --- Markdown helpers ---------------------------------------------------------------------------

_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.DOTALL)
# Elixir module attributes (`@spec`, `@moduledoc`, `@product.name`): GitHub would turn them into
# @-mentions and notify whoever owns that user name, so they are always set as code.
_ATTRIBUTE = re.compile(r"(?<![\w@`])@[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*[!?]?")
# ASCII punctuation that means something in GitHub Markdown; CommonMark lets any of it be
# backslash-escaped. `|` is left to `_cell`: escaping it twice would break table rows.
_SPECIAL = re.compile(r"([\\`*_\[\]<>~#&])")


def _md(text: str, *, prose: bool = False, inline: bool = True) -> str:
    """Text from findings and rules as Markdown that shows exactly that text.

    Code spans the author wrote are kept; Elixir attributes become code; everything else is
    escaped (`prose=True` keeps emphasis, for rule explanations written as Markdown, and only
    neutralises HTML). `inline` folds newlines so the text fits a list entry."""
    if inline:
        text = " ".join(text.split())
    out: list[str] = []
    pos = 0
    for m in _CODE_SPAN.finditer(text):
        out.append(_md_plain(text[pos : m.start()], prose))
        out.append(m.group(0))
        pos = m.end()
    out.append(_md_plain(text[pos:], prose))
    return "".join(out)


def _md_plain(text: str, prose: bool) -> str:
    out: list[str] = []
    pos = 0
    for m in _ATTRIBUTE.finditer(text):
        out.append(_escape(text[pos : m.start()], prose))
        out.append(f"`{m.group(0)}`")
        pos = m.end()
    out.append(_escape(text[pos:], prose))
    return "".join(out)


def _escape(text: str, prose: bool) -> str:
    if prose:
        return text.replace("<", "\\<")
    return _SPECIAL.sub(r"\\\1", text)


def code_span(text: str) -> str:
    """An inline code span holding `text` verbatim, whatever backticks it contains (so text a
    user wrote cannot break out of it and, say, @-mention someone from the bot's account)."""
    text = " ".join(text.split("\n"))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(text: str) -> str:
    """Table cell content: a `|` would end the cell (GFM honours `\\|` even in code spans)."""
    return " ".join(text.split()).replace("|", "\\|")


def _fence(text: str, minimum: int = 3) -> str:
    """A backtick fence longer than any backtick run in `text`, so the block cannot end early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(minimum, longest + 1)


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _clip(text: str, limit: int, ellipsis: str = "…") -> str:
    """`text` cut to at most `limit` UTF-8 bytes, with an ellipsis when something was cut."""
    if len(text) * 4 <= limit:  # no character takes more than 4 bytes
        return text
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = limit - _size(ellipsis)
    if room <= 0:
        return data[: max(0, limit)].decode("utf-8", errors="ignore")
    return data[:room].decode("utf-8", errors="ignore") + ellipsis


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


# --- summary ------------------------------------------------------------------------------------


def _location(finding: Finding) -> str:
    return code_span(f"{finding.path}:{finding.line}")


def _item(finding: Finding) -> str:
    """One compact list entry: `path:line` · `rule` (severity) · message."""
    message = _md(_clip(" ".join(finding.message.split()), ITEM_TEXT))
    rule = code_span(finding.rule)
    return f"- {_location(finding)} · {rule} ({finding.severity.value}) · {message}"


def _counts(findings: Iterable[Finding]) -> str:
    by = Counter(f.severity for f in findings)
    parts = [_plural(by[s], s.value) for s in Severity if by[s]]
    return ", ".join(parts)


@dataclass
class _Section:
    """A block of the summary that can shrink: its list keeps as many entries as fit and says
    how many it left out, so truncation is always visible."""

    heading: str
    items: list[str] = field(default_factory=list)
    total: int = 0  # entries that exist, shown or not
    intro: str = ""
    fold: str | None = None  # the <details> summary line when the list is folded

    def empty(self) -> bool:
        return not self.intro and self.total == 0

    def render(self, budget: int) -> str | None:
        """The largest rendering within `budget` bytes; None when not even the bare heading
        and the "not shown" line fit."""
        head = "\n\n".join(part for part in (self.heading, self.intro) if part)
        opening = closing = ""
        if self.fold is not None and self.total:
            opening = f"<details><summary>{self.fold}</summary>\n\n"
            closing = "\n\n</details>"
        sep = "\n\n" if head and self.total else ""

        def build(k: int) -> str:
            lines = "\n".join(self.items[:k])
            more = self.total - k
            tail = f"… {more} more not shown." if more else ""
            body = "\n\n".join(part for part in (lines, tail) if part)
            return f"{head}{sep}{opening}{body}{closing}" if self.total else head

        best: int | None = None
        fixed = _size(head) + _size(sep) + _size(opening) + _size(closing)
        used = 0
        for k in range(len(self.items) + 1):
            if k:
                used += _size(self.items[k - 1]) + (1 if k > 1 else 0)
            more = self.total - k
            tail = _size(f"… {more} more not shown.") + (2 if used else 0) if more else 0
            if fixed + used + tail > budget:
                break
            best = k
        return None if best is None else build(best)


def summary(
    result: LadderResult | None,
    *,
    outside: Sequence[Finding] = (),
    unplaced: Sequence[Finding] = (),
    rules: Mapping[str, Rule],
    config_source: str,
    head_sha: str | None = None,
    note: str | None = None,
    limit: int = SUMMARY_LIMIT,
) -> str:
    """The check run's `output.summary` (Markdown, at most `limit` UTF-8 bytes).

    Verdict, ladder table, top findings, findings without an inline comment (`unplaced`),
    findings outside the diff (counted by level), crashed rules, skipped files, notes and the
    config used. Lists shrink to fit and say "… N more not shown"; the verdict and the table
    come first so they survive any truncation. `note` is Markdown written by the caller (for
    instance why the review was cut short) and is shown as is.
    """
    nothing = result is None or _nothing_reviewed(result)
    head: list[str] = [_verdict_line(result, outside)]
    if note:
        head.append(note)
    if result is not None and not nothing:
        head.append(_ladder_table(result))
    footer = _footer(config_source, head_sha)

    sections: list[_Section] = []
    if result is not None:
        sections.append(_crashed_section(result, rules))
        sections.append(_top_section(result))
    if unplaced:
        sections.append(_unplaced_section(unplaced))
    if result is not None:
        sections.append(_outside_section(result, outside))
        sections.append(_skipped_section(result))
        sections.append(_notes_section(result))
    sections = [s for s in sections if not s.empty()]

    fixed = _SEP.join([*head, footer])
    rendered = _fit(sections, limit - _size(fixed))
    return _clamp(_SEP.join([*head, *rendered, footer]), limit)


_SEP = "\n\n"


def _fit(sections: Sequence[_Section], budget: int) -> list[str]:
    """Render the sections within `budget` bytes (separators included).

    First pass: each section gets a fair share of what is left (what earlier sections did not
    use flows to later ones), never less than its bare heading and "not shown" line, which are
    reserved for every section so none silently disappears. Second pass: what is still left
    goes to the sections that had to cut their list, in order of importance."""
    sep = len(_SEP)
    minimal = [_minimum(s) + sep for s in sections]
    texts: list[str | None] = []
    remaining = budget
    for index, section in enumerate(sections):
        reserve = sum(minimal[index + 1 :])
        share = max(remaining // (len(sections) - index), minimal[index])
        text = section.render(min(share, remaining - reserve) - sep)
        texts.append(text)
        if text is not None:
            remaining -= _size(text) + sep
    for index, section in enumerate(sections):
        text = texts[index]
        if text is None or remaining <= 0:
            continue
        grown = section.render(_size(text) + remaining)
        if grown is not None and _size(grown) > _size(text):
            remaining -= _size(grown) - _size(text)
            texts[index] = grown
    shown = [t for t in texts if t is not None]
    dropped = len(texts) - len(shown)
    if dropped:
        shown.append(f"… {_plural(dropped, 'section')} not shown (summary size limit).")
    return shown


def _minimum(section: _Section) -> int:
    """Bytes the section needs with no list entry (heading, intro and the "not shown" line)."""
    bare = _Section(section.heading, [], section.total, section.intro, section.fold)
    return _size(bare.render(1 << 62) or "")


def _clamp(text: str, limit: int) -> str:
    """Last line of defence: a hard cut with a note, for inputs no list truncation can save
    (a giant note or config name). Normal summaries never get here."""
    size = _size(text)
    if size <= limit:
        return text
    note = f"\n\n… summary truncated: {size} bytes did not fit in {limit}."
    if _size(note) >= limit:
        return _clip(text, limit, "")
    return _clip(text, limit - _size(note), "") + note


def _verdict_line(result: LadderResult | None, outside: Sequence[Finding]) -> str:
    state = conclusion(result)
    line = f"{_ICON[state]} **{title(result)}**"
    if result is None:
        return line
    if _nothing_reviewed(result):
        return f"{line} — no Elixir file in this pull request was reviewed."
    parts = [_plural(result.files_reviewed, "file") + " reviewed"]
    counts = _counts(result.findings)
    parts.append(counts or "no findings")
    out = len(outside) or result.outside_diff
    if out:
        parts.append(f"{out} more outside the diff")
    if result.crashed_rules:
        parts.append(_plural(len(result.crashed_rules), "rule") + " crashed")
    return f"{line} — " + " · ".join(parts)


def _ladder_table(result: LadderResult) -> str:
    rows = ["| Level | | Findings | Status |", "|---|---|---:|---|"]
    for level in LEVELS:
        info = result.levels.get(level)
        name = f"**L{level}** (required)" if level == result.required else f"L{level}"
        if info is None:
            rows.append(f"| {name} | {LEVEL_TITLES[level]} | – | not run |")
            continue
        found = str(info.findings)
        if info.blocking:
            found += f" ({info.blocking} blocking)"
        status = _STATUS[info.status]
        if info.note:
            status += " — " + _md(_clip(info.note, 300))
        rows.append(f"| {name} | {LEVEL_TITLES[level]} | {found} | {_cell(status)} |")
    return "\n".join(rows)


def _footer(config_source: str, head_sha: str | None) -> str:
    parts = [f"Ladder {__version__}"]
    if head_sha:
        parts.append(f"commit {code_span(head_sha[:7])}")
    parts.append(f"config: {_md(_clip(config_source, 300))}")
    return "<sub>" + " · ".join(parts) + "</sub>"


def _crashed_section(result: LadderResult, rules: Mapping[str, Rule]) -> _Section:
    items = []
    for rule_id in result.crashed_rules:
        rule = rules.get(rule_id)
        what = f" ({_md(rule.title)})" if rule is not None else ""
        items.append(
            f"- ⚠️ rule {code_span(rule_id)}{what} crashed and did not run; "
            "its findings are missing from this review."
        )
    return _Section(
        "### Incomplete review",
        items,
        len(items),
        fold="Crashed rules" if len(items) > OPEN_LIST else None,
    )


def _top_section(result: LadderResult) -> _Section:
    top = heapq.nsmallest(TOP_FINDINGS, result.findings, key=importance)
    return _Section("### Top findings", [_item(f) for f in top], len(result.findings))


def _unplaced_section(unplaced: Sequence[Finding]) -> _Section:
    # Entries beyond what any summary could hold are never rendered; `total` still counts them.
    listed = heapq.nsmallest(1000, unplaced, key=importance)
    n = len(unplaced)
    return _Section(
        f"### {_plural(n, 'finding')} without an inline comment",
        [_item(f) for f in listed],
        n,
        intro="On changed lines, but over the inline comment limit or not inside a diff hunk "
        "GitHub accepts comments on; each one is an annotation of this check run.",
        fold="Show them" if n > OPEN_LIST else None,
    )


def _outside_section(result: LadderResult, outside: Sequence[Finding]) -> _Section:
    if not outside:
        if not result.outside_diff:
            return _Section("")
        intro = (
            f"{_plural(result.outside_diff, 'finding')} on lines this pull request did not "
            "change; they do not count toward the verdict."
        )
        return _Section("### Outside the diff", intro=intro)
    by_level = Counter(f.level for f in outside)
    counted = " · ".join(f"L{level} × {by_level[level]}" for level in sorted(by_level))
    intro = (
        f"{_plural(len(outside), 'finding')} on lines this pull request did not change; they do "
        f"not count toward the verdict: {counted}."
    )
    listed = heapq.nsmallest(OUTSIDE_LISTED, outside, key=importance)
    return _Section(
        "### Outside the diff",
        [_item(f) for f in listed],
        len(outside),
        intro=intro,
        fold="The most important ones",
    )


def _skipped_section(result: LadderResult) -> _Section:
    items = [
        f"- {code_span(s.path)}: {_md(_clip(s.reason, ITEM_TEXT))}" for s in result.skipped_files
    ]
    n = len(items)
    return _Section(
        f"### {_plural(n, 'file')} not reviewed",
        items,
        n,
        fold="Show them" if n > OPEN_LIST else None,
    )


def _notes_section(result: LadderResult) -> _Section:
    items = [f"- {_md(_clip(n, 2 * ITEM_TEXT))}" for n in result.notes]
    return _Section(
        "### Notes", items, len(items), fold="Show them" if len(items) > OPEN_LIST else None
    )


# --- annotations --------------------------------------------------------------------------------


def annotations(findings: Iterable[Finding], rules: Mapping[str, Rule]) -> list[dict[str, Any]]:
    """Check-run annotations, most important first (GitHub lists them in the order sent)."""
    return [annotation(f, rules.get(f.rule)) for f in ordered(findings)]


def annotation(finding: Finding, rule: Rule | None) -> dict[str, Any]:
    """One annotation. Annotations are plain text, not Markdown, so nothing is escaped."""
    start = max(1, finding.line)
    end = max(start, finding.end_line)
    message = finding.message or (rule.title if rule else finding.rule)
    if finding.fix:
        message = f"{message}\nFix: {finding.fix}"
    heading = f"{finding.rule}: {rule.title}" if rule is not None else finding.rule
    item: dict[str, Any] = {
        "path": finding.path,
        "start_line": start,
        "end_line": end,
        "annotation_level": _ANNOTATION_LEVEL[finding.severity],
        "message": _clip(message, ANNOTATION_TEXT_LIMIT),
        "title": _clip(heading, TITLE_LIMIT),
    }
    # GitHub: columns only on single-line annotations.
    if start == end and finding.column >= 1:
        item["start_column"] = finding.column
        item["end_column"] = finding.column
    if finding.suggestion is not None:
        lines = f"line {start}" if start == end else f"lines {start}-{end}"
        details = f"Suggested replacement for {lines}:\n{finding.suggestion}"
        if _size(details) <= ANNOTATION_TEXT_LIMIT:
            item["raw_details"] = details
    return item


def batches(items: Sequence[T], size: int = ANNOTATIONS_PER_REQUEST) -> list[list[T]]:
    """Consecutive chunks of at most `size` (the Checks API takes 50 annotations per request)."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


# --- fingerprints -------------------------------------------------------------------------------

_LINE_REFERENCE = re.compile(r"\b(lines?) \d+(?:\s*(?:-|–|\.\.)\s*\d+)?", re.IGNORECASE)
_MARKER = re.compile(r"<!-- ladder:fp=([0-9a-f]{16}) -->")


def fingerprint(finding: Finding, line_text: str, *, occurrence: int = 0) -> str:
    """Identity of a finding that survives pushes which only move it: 16 hex chars of SHA-256
    over the rule, the path, the message and the stripped text of the finding's first line.

    The line number is left out (an edit above the finding moves it), and so are line
    references inside the message ("at line 12" becomes "at line N"). Other numbers stay: in
    "function is 52 lines (max 40)" they describe the code, and when they change the finding
    did too, so a fresh comment is right. Anchoring on the line's text means an edit of that
    line yields a new fingerprint, which is the point: it is a new version of the problem.

    `occurrence` tells apart identical findings on identical lines of one file (two
    `IO.inspect(x)` calls): the first keeps the plain fingerprint, the n-th adds n.
    """
    message = finding.message
    if "line" in message.lower():  # the regex is slow on long messages that cannot match
        message = _LINE_REFERENCE.sub(lambda m: f"{m.group(1)} N", message)
    parts = [finding.rule, finding.path, message, line_text.strip()]
    if occurrence:
        parts.append(str(occurrence))
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:16]


def marker(fp: str) -> str:
    return f"<!-- ladder:fp={fp} -->"


def fingerprints_in(body: str) -> set[str]:
    """The fingerprints of the markers in a comment body (what the bot posted earlier)."""
    return set(_MARKER.findall(body))


def _fingerprints(
    findings: Sequence[Finding], lines: Mapping[str, Sequence[str]]
) -> dict[int, str]:
    """Fingerprint of each finding (by index), numbering identical twins on different lines in
    file order, so the numbering does not depend on importance or on which findings get placed.
    Twins on the same line are the same finding reported twice and share one fingerprint."""
    twins: dict[str, list[int]] = {}
    out: dict[int, str] = {}
    for index in sorted(range(len(findings)), key=lambda i: findings[i].sort_key):
        finding = findings[index]
        text = _line_text(lines, finding.path, finding.line)
        base = fingerprint(finding, text)
        places = twins.setdefault(base, [])
        if finding.line not in places:
            places.append(finding.line)
        occurrence = places.index(finding.line)
        out[index] = fingerprint(finding, text, occurrence=occurrence) if occurrence else base
    return out


def _line_text(lines: Mapping[str, Sequence[str]], path: str, line: int) -> str:
    text = lines.get(path)
    if text is None or not 1 <= line <= len(text):
        return ""
    return text[line - 1]


# --- inline comments ----------------------------------------------------------------------------


@dataclass(frozen=True)
class InlineComment:
    finding: Finding
    fingerprint: str
    path: str
    line: int
    start_line: int | None
    body: str

    def to_api(self) -> dict[str, Any]:
        """An entry of `comments` in "create a review" (new-file side, line-based)."""
        item: dict[str, Any] = {
            "path": self.path,
            "line": self.line,
            "side": "RIGHT",
            "body": self.body,
        }
        if self.start_line is not None and self.start_line < self.line:
            item["start_line"] = self.start_line
            item["start_side"] = "RIGHT"
        return item


@dataclass(frozen=True)
class Placement:
    comments: list[InlineComment]
    # Findings that got no comment: outside every hunk, file without a patch, over the limit.
    unplaced: list[Finding]
    # Findings whose fingerprint was already posted (earlier push) or repeats in this review.
    duplicates: int


def _hunk_of(change: FileChange, line: int) -> tuple[int, int] | None:
    for hunk in change.hunks:
        if hunk[0] <= line <= hunk[1]:
            return hunk
    return None


def _span(finding: Finding, change: FileChange | None) -> tuple[int, int] | None:
    """(start, end) lines a comment on `finding` may cover, or None when it can have none."""
    if change is None or change.whole_file:
        return None
    start, end = finding.line, max(finding.line, finding.end_line)
    hunk = _hunk_of(change, start)
    if hunk is None:
        # A finding about a whole function whose first line is above the change (a body
        # edit): comment where the change is, on its first added line inside the range.
        overlapping = [h for h in change.hunks if h[0] <= end and h[1] >= start]
        if not overlapping:
            return None
        first, last = max(start, overlapping[0][0]), min(end, overlapping[0][1])
        anchor = next((n for n in range(first, last + 1) if n in change.added), first)
        return anchor, anchor
    if end <= hunk[1]:
        return start, end
    return start, start  # the range leaves the hunk: comment on its first line only


def select_inline(
    findings: Iterable[Finding],
    changes: Mapping[str, FileChange],
    *,
    lines: Mapping[str, Sequence[str]],
    already: set[str],
    limit: int,
    rules: Mapping[str, Rule],
) -> Placement:
    """Choose the inline comments of one review: most important first, at most `limit`, each
    inside one hunk of its file's patch (GitHub rejects the whole review otherwise), none whose
    fingerprint is in `already` (posted on an earlier push) or repeated within the review.

    Every finding ends up in exactly one of `comments`, `unplaced` or `duplicates`.
    """
    items = list(findings)
    fps = _fingerprints(items, lines)
    comments: list[InlineComment] = []
    unplaced: list[Finding] = []
    duplicates = 0
    used: set[str] = set()
    for index in sorted(range(len(items)), key=lambda i: importance(items[i])):
        finding, fp = items[index], fps[index]
        if fp in already or fp in used:
            duplicates += 1
            continue
        span = _span(finding, changes.get(finding.path))
        if span is None or len(comments) >= limit:
            unplaced.append(finding)
            continue
        start, end = span
        exact = (start, end) == (finding.line, max(finding.line, finding.end_line))
        body = comment_body(
            finding,
            rules.get(finding.rule),
            fp,
            with_suggestion=exact and finding.suggestion is not None,
        )
        comments.append(
            InlineComment(
                finding=finding,
                fingerprint=fp,
                path=finding.path,
                line=end,
                start_line=start if start < end else None,
                body=body,
            )
        )
        used.add(fp)
    return Placement(comments=comments, unplaced=unplaced, duplicates=duplicates)


def _explain_hint(rule_id: str) -> str:
    return f"<sub>Reply {code_span(f'/ladder explain {rule_id}')} for the rule's rationale.</sub>"


def comment_body(finding: Finding, rule: Rule | None, fp: str, *, with_suggestion: bool) -> str:
    """An inline comment: header, message, fix, the suggested replacement (only when the
    comment covers exactly the lines it replaces), how to learn more, and the hidden marker.

    Under 65536 characters: the message is shortened if need be, never the suggestion, which is
    dropped whole when it cannot fit (a cut suggestion would be a wrong edit one click away)."""
    header = (
        f"**{code_span(finding.rule)}** · {finding.severity.value} · "
        f"L{finding.level} {LEVEL_TITLES.get(finding.level, '')}".rstrip()
    )
    tail = f"{_explain_hint(finding.rule)}\n{marker(fp)}"
    block = ""
    if with_suggestion and finding.suggestion is not None:
        block = _suggestion_block(finding.suggestion)
    # A finding always has a message; the rule title stands in should one ever be empty.
    message = finding.message or (rule.title if rule is not None else finding.rule)
    text = _md(message, inline=False)
    if finding.fix:
        text += f"\n\n**Fix:** {_md(finding.fix, inline=False)}"
    # Room for the message once header, suggestion and tail are in (4 paragraph breaks).
    room = BODY_LIMIT - _size(header) - _size(tail) - 8
    if block and _size(block) > room - 200:
        block = "_The suggested replacement is too long to show here._"
    room -= _size(block)
    parts = [header, _clip(text, max(0, room)), block, tail]
    return _clip("\n\n".join(p for p in parts if p), BODY_LIMIT)


def _suggestion_block(suggestion: str) -> str:
    """A GitHub suggestion: replaces the commented lines with its content ("" deletes them)."""
    fence = _fence(suggestion)
    body = f"{suggestion}\n" if suggestion else ""
    return f"{fence}suggestion\n{body}{fence}"


# --- review body --------------------------------------------------------------------------------


def review_body(
    result: LadderResult | None,
    *,
    comments: int,
    unplaced: int,
    duplicates: int,
    check_url: str | None,
) -> str:
    """The body of the COMMENT review that carries the inline comments (GitHub requires one)."""
    lines = [f"{_ICON[conclusion(result)]} **Ladder: {title(result)}**"]
    counts = [f"{_plural(comments, 'inline comment')} on changed lines"]
    if unplaced:
        counts.append(
            f"{_plural(unplaced, 'more finding')} without an inline comment "
            "(comment limit, or outside the diff hunks)"
        )
    if duplicates:
        counts.append(f"{_plural(duplicates, 'finding')} already commented on earlier")
    lines.append("; ".join(counts) + ".")
    if check_url and re.fullmatch(r"https?://[^\s<>()]+", check_url):
        lines.append(f"Full report: [the Ladder check run]({check_url}).")
    else:
        lines.append("The full report is in the Ladder check run.")
    return _clip("\n\n".join(lines), BODY_LIMIT)


# --- /ladder explain ----------------------------------------------------------------------------


def _param_value(value: Any) -> str:
    if isinstance(value, (list, tuple, frozenset, set)):
        return "[" + ", ".join(_param_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def explain_reply(rule: Rule) -> str:
    """Markdown reply to `/ladder explain RULE`: what `ladder explain` prints, for GitHub."""
    head = [
        f"### {code_span(rule.id)} · {_md(rule.title)}",
        f"**Level:** L{rule.level} ({LEVEL_TITLES[rule.level]}) · "
        f"**Severity:** {rule.severity.value}",
        _md(rule.explanation, prose=True, inline=False),
    ]
    examples = [
        "**Bad** (reported):",
        _elixir(rule.bad_example),
        "**Good:**",
        _elixir(rule.good_example),
    ]
    extra: list[str] = []
    if rule.params:
        rows = ["| Parameter | Default |", "|---|---|"]
        rows += [
            f"| {_cell(code_span(str(k)))} | {_cell(code_span(_param_value(v)))} |"
            for k, v in rule.params.items()
        ]
        extra.append(
            f"**Parameters** (override in `.github/ladder.yml` under "
            f"{code_span('rules: {' + rule.id + ': {...}}')}):\n\n" + "\n".join(rows)
        )
    overlap = [
        *(f"credo {code_span(c)}" for c in rule.credo),
        *(f"sobelow {code_span(s)}" for s in rule.sobelow),
        *(f"excellent_migrations {code_span(e)}" for e in rule.excellent_migrations),
    ]
    if overlap:
        extra.append("**Overlaps:** " + ", ".join(overlap))
    text = "\n\n".join([*head, *examples, *extra])
    if _size(text) > BODY_LIMIT:
        note = f"_Examples too long for a comment; run {code_span('ladder explain ' + rule.id)}._"
        text = "\n\n".join([*head, note, *extra])
    return _clip(text, BODY_LIMIT)


def _elixir(code: str) -> str:
    code = code.rstrip()
    fence = _fence(code)
    return f"{fence}elixir\n{code}\n{fence}"


def unknown_rule_reply(name: str, candidates: Sequence[str]) -> str:
    """Reply to `/ladder explain NAME` for a name that is no rule id."""
    shown = code_span(_clip(" ".join(name.split()), 100)) if name.strip() else "(nothing)"
    lines = [f"I don't know a rule called {shown}."]
    picks = [code_span(c) for c in list(candidates)[:10]]
    if picks:
        options = picks[0] if len(picks) == 1 else ", ".join(picks[:-1]) + " or " + picks[-1]
        lines.append(f"Did you mean {options}?")
    lines.append(
        "Rule ids are the level, a dot and a name, like `L4.spec-missing`; "
        "`ladder rules` lists them all."
    )
    return _clip("\n\n".join(lines), BODY_LIMIT)
