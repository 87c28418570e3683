"""Render a LadderResult for people (text), for programs (JSON, SARIF 2.1.0) and for GitHub
Actions (workflow commands). Pure functions from a result to a string.

`display` maps the engine's root-relative paths to what the user typed (cwd-relative).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from itertools import groupby
from typing import Any

from bot import __version__
from checks.model import LEVEL_TITLES, LEVELS, Finding, LadderResult, Rule, Severity

Display = Callable[[str], str]

INFORMATION_URI = "https://github.com/ladder-review/ladder"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

_COLORS = {
    "error": "\033[31m",
    "warning": "\033[33m",
    "notice": "\033[36m",
    "pass": "\033[32m",
    "fail": "\033[31m",
    "skipped": "\033[2m",
    "bold": "\033[1m",
    "dim": "\033[2m",
}
_RESET = "\033[0m"

# Suggested replacements longer than this are left to `mix format` / the pull request view.
SUGGESTION_LINES = 6


def _identity(path: str) -> str:
    return path


def _paint(text: str, style: str, color: bool) -> str:
    return f"{_COLORS[style]}{text}{_RESET}" if color else text


def render_text(
    result: LadderResult, *, display: Display = _identity, color: bool = False
) -> str:
    out: list[str] = []
    for path, group in groupby(result.findings, key=lambda f: f.path):
        out.append(_paint(display(path), "bold", color))
        items = list(group)
        width = max(len(f.rule) for f in items)
        for f in items:
            where = f"{f.line}:{f.column}".rjust(7)
            severity = _paint(f.severity.value.ljust(7), f.severity.value, color)
            out.append(f"{where}  {severity}  {f.rule:<{width}}  {f.message}")
            if f.fix:
                out.append(" " * 18 + _paint(f"fix: {f.fix}", "dim", color))
            if f.suggestion is not None and f.suggestion.count("\n") < SUGGESTION_LINES:
                lines = f.suggestion.split("\n") if f.suggestion else [""]
                out.append(" " * 18 + _paint("suggested:", "dim", color))
                out.extend(" " * 20 + _paint(line, "pass", color) for line in lines)
        out.append("")
    if result.skipped_files:
        out.append(_paint("Skipped files", "bold", color))
        out.extend(f"  {display(s.path)}: {s.reason}" for s in result.skipped_files)
        out.append("")
    if result.crashed_rules:
        out.append(
            _paint("Rules that crashed (their checks did not run): ", "fail", color)
            + ", ".join(result.crashed_rules)
        )
        out.append("")
    for note in result.notes:
        out.append(_paint(f"note: {note}", "dim", color))
    if result.notes:
        out.append("")
    out.append(_paint("Ladder", "bold", color))
    for level in LEVELS:
        info = result.levels[level]
        label = f"  L{level}  {LEVEL_TITLES[level]:<17}"
        # Pad outside the colour codes so that a row without detail ends without spaces.
        status = _paint(info.status, info.status, color) + " " * (7 - len(info.status))
        detail = ""
        if info.findings:
            plural = "s" if info.findings != 1 else ""
            detail = f"{info.findings} finding{plural}, {info.blocking} blocking"
        if info.note:
            detail = f"{detail}; {info.note}" if detail else info.note
        out.append(f"{label} {status}  {detail}".rstrip())
    summary = _summary_line(result)
    verdict = result.verdict()
    verdict = verdict[0].upper() + verdict[1:]
    style = "pass" if result.passed else "fail"
    out.append("")
    out.append(_paint(verdict, style, color) + (f"  ({summary})" if summary else ""))
    return "\n".join(out) + "\n"


def _summary_line(result: LadderResult) -> str:
    parts = [f"{result.files_reviewed} file{'s' if result.files_reviewed != 1 else ''} reviewed"]
    counts = {s: sum(1 for f in result.findings if f.severity is s) for s in Severity}
    found = [f"{n} {s.value}{'s' if n != 1 else ''}" for s, n in counts.items() if n]
    parts.append(", ".join(found) if found else "no findings")
    if result.outside_diff:
        parts.append(f"{result.outside_diff} more outside the changed lines")
    return "; ".join(parts)


def render_json(result: LadderResult, *, display: Display = _identity) -> str:
    data = result.to_json()
    for finding in data["findings"]:
        finding["path"] = display(finding["path"])
    for skipped in data["skipped"]:
        skipped["path"] = display(skipped["path"])
    # One finding per line: readable, diff-friendly, and it keeps json's fast C encoder (the
    # indenting encoder is pure Python and cost a fifth of a large review's run time).
    head = json.dumps(
        {k: v for k, v in data.items() if k not in ("findings", "skipped")}, indent=2
    )
    return (
        head[: head.rindex("}")].rstrip()
        + ",\n"
        + _json_list("findings", data["findings"])
        + ",\n"
        + _json_list("skipped", data["skipped"])
        + "\n}\n"
    )


def _json_list(key: str, items: list[dict[str, Any]]) -> str:
    if not items:
        return f'  "{key}": []'
    body = ",\n".join(f"    {json.dumps(item, ensure_ascii=False)}" for item in items)
    return f'  "{key}": [\n{body}\n  ]'


_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTICE: "note"}


def _rule_markdown(rule: Rule) -> str:
    return (
        f"**{rule.title}** (level L{rule.level})\n\n{rule.explanation}\n\n"
        f"Bad:\n\n```elixir\n{rule.bad_example.rstrip()}\n```\n\n"
        f"Good:\n\n```elixir\n{rule.good_example.rstrip()}\n```\n"
    )


def explain_text(rule: Rule) -> str:
    """What `ladder explain RULE` prints."""
    params = ""
    if rule.params:
        listed = ", ".join(f"{k}: {_yaml_value(v)}" for k, v in rule.params.items())
        params = f"\nParameters (rules: {{{rule.id}: {{...}}}} in .github/ladder.yml): {listed}\n"
    overlap = [
        *(f"credo {c}" for c in rule.credo),
        *(f"sobelow {s}" for s in rule.sobelow),
        *(f"excellent_migrations {e}" for e in rule.excellent_migrations),
    ]
    also = f"\nOverlaps: {', '.join(overlap)}\n" if overlap else ""
    return (
        f"{rule.id}  ({rule.severity.value}, level L{rule.level})\n{rule.title}\n\n"
        f"{rule.explanation}\n{params}{also}\n"
        f"Bad:\n{_indent(rule.bad_example)}\n\nGood:\n{_indent(rule.good_example)}\n"
    )


def _yaml_value(value: Any) -> str:
    if isinstance(value, (list, tuple, frozenset)):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return json.dumps(value) if isinstance(value, str) else str(value).lower()


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" if line else "" for line in text.rstrip().splitlines())


def render_sarif(
    result: LadderResult, rules: Sequence[Rule], *, display: Display = _identity
) -> str:
    index = {rule.id: i for i, rule in enumerate(rules)}
    driver = {
        "name": "Ladder",
        "version": __version__,
        "semanticVersion": __version__,
        "informationUri": INFORMATION_URI,
        "rules": [
            {
                "id": rule.id,
                "name": "".join(p.capitalize() for p in rule.id.split(".", 1)[1].split("-")),
                "shortDescription": {"text": rule.title},
                "fullDescription": {"text": rule.explanation},
                "help": {"text": rule.explanation, "markdown": _rule_markdown(rule)},
                "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
                "properties": {"level": f"L{rule.level}", "tags": [f"L{rule.level}"]},
            }
            for rule in rules
        ],
    }
    results = [_sarif_result(f, index, display) for f in result.findings]
    invocation: dict[str, Any] = {"executionSuccessful": not result.crashed_rules}
    if result.crashed_rules:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": f"rule {rule_id} crashed"}}
            for rule_id in result.crashed_rules
        ]
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "results": results,
        "invocations": [invocation],
        "properties": {
            "required": f"L{result.required}",
            "reached": None if result.reached is None else f"L{result.reached}",
        },
    }
    sarif = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(sarif, indent=2) + "\n"


def _sarif_result(f: Finding, index: dict[str, int], display: Display) -> dict[str, Any]:
    item: dict[str, Any] = {
        "ruleId": f.rule,
        "level": _SARIF_LEVEL[f.severity],
        "message": {"text": f.message + (f" Fix: {f.fix}" if f.fix else "")},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": display(f.path)},
                    "region": {
                        "startLine": f.line,
                        "endLine": f.end_line,
                        "startColumn": max(1, f.column),
                    },
                }
            }
        ],
    }
    if f.rule in index:
        item["ruleIndex"] = index[f.rule]
    return item


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


_WORKFLOW_LEVEL = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.NOTICE: "notice",
}


def render_github(result: LadderResult, *, display: Display = _identity) -> str:
    """GitHub Actions workflow commands: each finding becomes an annotation on the run."""
    out: list[str] = []
    for f in result.findings:
        props = ",".join(
            [
                f"file={_escape_property(display(f.path))}",
                f"line={f.line}",
                f"endLine={f.end_line}",
                f"col={f.column}",
                f"title={_escape_property(f.rule)}",
            ]
        )
        message = f.message + (f" Fix: {f.fix}" if f.fix else "")
        out.append(f"::{_WORKFLOW_LEVEL[f.severity]} {props}::{_escape_data(message)}")
    verdict = result.verdict()
    level = "notice" if result.passed else "error"
    out.append(f"::{level} title=Ladder::{_escape_data(verdict[0].upper() + verdict[1:])}")
    return "\n".join(out) + "\n"
