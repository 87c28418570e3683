"""The `ladder` command: check | rules | explain | serve | demo.

Exit status (ARCHITECTURE.md): 0 when the change reaches the required level, 1 when it does not,
2 for usage and configuration errors (which always name what is wrong).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot import __version__
from bot.diff import filter_findings
from bot.formats import explain_text, render_github, render_json, render_sarif, render_text
from bot.repo_config import ConfigError, find_config, load_file
from bot.workspace import Workspace, WorkspaceError, find_root
from checks.config import Config
from checks.ladder import review, verdict
from checks.model import LEVEL_TITLES, parse_level
from checks.registry import all_rules, rules_by_id

EXIT_OK, EXIT_BELOW, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on usage errors, which is our contract too; keep its message."""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ladder",
        description="Review Elixir code against the production-readiness ladder (L0-L7).",
    )
    parser.add_argument("--version", action="version", version=f"ladder {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log rule crashes in full")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = sub.add_parser("check", help="review Elixir files or a git diff")
    check.add_argument("paths", nargs="*", type=Path, help="files or directories (default: .)")
    check.add_argument(
        "--diff", metavar="BASE", help="review only what changed since git ref BASE"
    )
    check.add_argument(
        "--filter",
        choices=("added", "file", "all"),
        help="with --diff: findings on added lines (default), anywhere in changed files, or all",
    )
    check.add_argument(
        "--format", choices=("text", "json", "sarif", "github"), default="text", dest="fmt"
    )
    check.add_argument("--config", type=Path, help="config file (default: .github/ladder.yml)")
    check.add_argument(
        "--no-elixir", action="store_true", help="do not start the Elixir formatter helper"
    )
    check.add_argument("--jobs", type=int, help="worker processes (default: all cores)")
    check.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto", help="text output colour"
    )

    rules = sub.add_parser("rules", help="list every rule")
    rules.add_argument("--format", choices=("text", "json"), default="text", dest="fmt")
    rules.add_argument("--level", help="only rules of this level (e.g. L4)")

    explain = sub.add_parser("explain", help="explain a rule with a bad and a good example")
    explain.add_argument("rule", help="rule id, e.g. L4.spec-missing")

    sub.add_parser(
        "serve",
        help="run the GitHub App (settings from GITHUB_APP_ID, GITHUB_PRIVATE_KEY, ...)",
    )
    demo = sub.add_parser(
        "demo", help="run the App against a local GitHub simulator with a sample pull request"
    )
    demo.add_argument(
        "--no-elixir", action="store_true", help="do not start the Elixir formatter helper"
    )
    return parser


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.CRITICAL,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        if args.command == "rules":
            return _rules(args, out)
        if args.command == "explain":
            return _explain(args, out)
        if args.command == "serve":
            return _serve()
        if args.command == "demo":
            return _demo(args, out)
        return _check(args, out)
    except (ConfigError, WorkspaceError) as exc:
        print(f"ladder: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("ladder: interrupted", file=sys.stderr)
        return 130


def _rules(args: argparse.Namespace, out: TextIO) -> int:
    rules = list(all_rules())
    if args.level:
        try:
            level = parse_level(args.level)
        except ValueError as exc:
            raise ConfigError(f"--level: {exc}") from exc
        rules = [r for r in rules if r.level == level]
    if args.fmt == "json":
        data = [
            {"id": r.id, "level": f"L{r.level}", "severity": r.severity.value, "title": r.title}
            for r in rules
        ]
        out.write(json.dumps(data, indent=2) + "\n")
        return EXIT_OK
    width = max((len(r.id) for r in rules), default=10)
    current = None
    for rule in rules:
        if rule.level != current:
            current = rule.level
            out.write(f"\nL{rule.level} {LEVEL_TITLES[rule.level]}\n")
        out.write(f"  {rule.id:<{width}}  {rule.severity.value:<7}  {rule.title}\n")
    return EXIT_OK


def _serve() -> int:
    from aiohttp import web

    from bot.app import create_app
    from bot.config import Settings, SettingsError
    from bot.logs import configure

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"ladder serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure(settings.log_level)
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=None,
        print=None,
        # Webhook handlers answer in milliseconds; the reviews' grace is LADDER_STOP_GRACE.
        shutdown_timeout=2.0,
    )
    return EXIT_OK


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    import asyncio

    from bot.demo import run_demo

    logging.getLogger().setLevel(logging.ERROR)
    return asyncio.run(run_demo(out, use_elixir=not args.no_elixir))


def _explain(args: argparse.Namespace, out: TextIO) -> int:
    rule = rules_by_id().get(args.rule)
    if rule is None:
        close = [r.id for r in all_rules() if args.rule.lower() in r.id.lower()]
        hint = f" Did you mean: {', '.join(close[:5])}?" if close else " See `ladder rules`."
        print(f"ladder: no rule {args.rule!r}.{hint}", file=sys.stderr)
        return EXIT_USAGE
    out.write(explain_text(rule))
    return EXIT_OK


def _check(args: argparse.Namespace, out: TextIO) -> int:
    cwd = Path.cwd()
    if args.jobs is not None and args.jobs < 1:
        raise WorkspaceError("--jobs must be at least 1")
    if args.filter and not args.diff:
        raise WorkspaceError("--filter only applies with --diff BASE")
    root = find_root(args.paths, cwd)
    config = _load_config(args.config, root)
    workspace = Workspace(root=root, cwd=cwd, config=config)
    collected = workspace.collect_diff(args.diff) if args.diff else workspace.collect(args.paths)

    notes: list[str] = []
    use_elixir = config.formatter.elixir and not args.no_elixir
    formatter = workspace.run_formatter(
        [f for f in collected.files if f.path in collected.changed],
        use_elixir=use_elixir,
        notes=notes,
    )
    outcome = review(
        collected.files, config, formatter=formatter, changed=collected.changed, jobs=args.jobs
    )
    shown, outside = outcome.findings, 0
    if args.diff:
        filtered = filter_findings(
            outcome.findings, collected.changes, args.filter or "added", rules_by_id()
        )
        shown, outside = filtered.shown, len(filtered.outside)
    result = verdict(
        outcome,
        config.required_level,
        findings=shown,
        skipped_files=collected.skipped,
        outside_diff=outside,
        notes=notes,
    )
    display = workspace.display
    # The JSON contract has no place for these; stderr reaches the user in every format.
    for rule_id, error in sorted(outcome.crashed.items()):
        print(f"ladder: rule {rule_id} crashed and did not run: {error}", file=sys.stderr)
    if args.fmt == "json":
        out.write(render_json(result, display=display))
    elif args.fmt == "sarif":
        out.write(render_sarif(result, all_rules(), display=display))
    elif args.fmt == "github":
        out.write(render_github(result, display=display))
    else:
        out.write(render_text(result, display=display, color=_use_color(args.color, out)))
    return EXIT_OK if result.passed else EXIT_BELOW


def _load_config(explicit: Path | None, root: Path) -> Config:
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: config file not found")
        return load_file(explicit)
    found = find_config(root)
    return load_file(found) if found is not None else Config()


def _use_color(choice: str, out: TextIO) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return hasattr(out, "isatty") and out.isatty()
