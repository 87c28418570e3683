"""The review engine as the service uses it: sources fetched from GitHub in, a verdict out.

The CLI reads a working tree (`bot/workspace.py`); the App has bytes fetched at the head sha and
the pull request's patches. Both end in the same calls: `checks.sources.prepare` per file, the
optional Elixir helper for L0/L1, `checks.ladder.review`, the diff filter and the verdict.

The work is CPU-bound and synchronous, so it runs in a thread pool off the event loop; the
webhook keeps answering while a review parses. One resident Elixir helper serves every review
(its calls are serialised by its own lock); it is started in the background at boot and its
state is what `/readyz` reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bot.diff import FileChange, Filtered, filter_findings
from checks.config import Config
from checks.context import SourceFile
from checks.formatter import (
    ElixirHelper,
    FormatResult,
    FormatterConfig,
    FormatterOptions,
    read_formatter_exs,
)
from checks.ladder import FormatterRun, Review, review, verdict
from checks.model import Finding, LadderResult, SkippedFile
from checks.registry import rules_by_id
from checks.sources import prepare

log = logging.getLogger("ladder.engine")

# Plugins that only reformat markup inside ~H sigils (see bot/workspace.py).
_MARKUP_ONLY = frozenset({"Phoenix.LiveView.HTMLFormatter"})


@dataclass
class Outcome:
    result: LadderResult
    shown: list[Finding]
    outside: list[Finding]
    review: Review
    # Text of each reviewed file split on "\n" (fingerprints and suggestions need it).
    lines: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class EngineInput:
    """One review's material: file bytes at the head, which of them changed and how."""

    sources: Mapping[str, bytes]
    changed: set[str]
    changes: Mapping[str, FileChange]
    config: Config
    formatter_exs: str | None
    # Files that could not be reviewed; the engine adds the ones it cannot prepare.
    skipped: list[SkippedFile]


class Engine:
    def __init__(self, *, workers: int, use_elixir: bool) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ladder-review")
        self.use_elixir = use_elixir
        self.helper: ElixirHelper | None = None
        # "starting" | "running" | "unavailable: <why>" | "disabled"
        self.helper_state = "starting" if use_elixir else "disabled"
        self._starting: asyncio.Future[None] | None = None

    def start(self) -> None:
        """Start the Elixir helper in the background; reviews that arrive before it is up run
        without it (L1 reported as skipped, never as passed)."""
        if not self.use_elixir or self._starting is not None:
            return
        loop = asyncio.get_running_loop()
        self._starting = loop.run_in_executor(self._pool, self._start_helper)

    def _start_helper(self) -> None:
        helper = ElixirHelper.start()
        if helper is None:
            self.helper_state = "unavailable: the `elixir` executable is not on PATH"
            log.warning("Elixir helper unavailable; L1 formatting will be reported as skipped")
            return
        self.helper = helper
        self.helper_state = "running"
        log.info("Elixir helper started", extra={"elixir": helper.version})

    async def close(self) -> None:
        """Stop the pool first, then the helper: a review still in a thread would otherwise
        find the helper gone and start a new VM that nobody closes."""
        if self._starting is not None:
            with contextlib.suppress(Exception):
                await self._starting
        await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)
        if self.helper is not None:
            self.helper.close()
            self.helper = None

    @property
    def ready(self) -> bool:
        return self.helper_state != "starting"

    async def run(self, job: EngineInput) -> Outcome:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self.run_sync, job)

    def run_sync(self, job: EngineInput) -> Outcome:
        sources, changed, config = job.sources, job.changed, job.config
        skipped = job.skipped
        files: list[SourceFile] = []
        under_review: set[str] = set()
        for path in sorted(sources):
            prepared = prepare(path, sources[path], config)
            if isinstance(prepared, SkippedFile):
                if path in changed:
                    skipped.append(prepared)
                continue
            files.append(prepared)
            if path in changed:
                under_review.add(path)
        notes: list[str] = []
        formatter = self._format(
            [f for f in files if f.path in under_review], config, job.formatter_exs, notes
        )
        outcome = review(files, config, formatter=formatter, changed=under_review, jobs=1)
        filtered: Filtered = filter_findings(
            outcome.findings, job.changes, config.filter, rules_by_id()
        )
        result = verdict(
            outcome,
            config.required_level,
            findings=filtered.shown,
            skipped_files=skipped,
            outside_diff=len(filtered.outside),
            notes=notes,
        )
        lines = {f.path: f.text.split("\n") for f in files if f.path in under_review}
        return Outcome(result, list(filtered.shown), list(filtered.outside), outcome, lines)

    def _format(
        self,
        files: list[SourceFile],
        config: Config,
        formatter_exs: str | None,
        notes: list[str],
    ) -> FormatterRun:
        formatter: FormatterConfig | None = None
        if formatter_exs is not None:
            try:
                formatter = read_formatter_exs(formatter_exs)
            except Exception as exc:  # an odd .formatter.exs must not sink the review
                notes.append(f".formatter.exs could not be read ({type(exc).__name__})")
        line_length = config.formatter.line_length or (
            formatter.line_length if formatter is not None and formatter.line_length else 98
        )
        advisory: str | None = None
        if formatter is not None:
            rewriting = [p for p in formatter.plugins if p not in _MARKUP_ONLY]
            if formatter.plugins:
                notes.append(
                    f"formatter plugins in .formatter.exs ({', '.join(formatter.plugins)}) "
                    "cannot run here: L1.format compares with plain `mix format`"
                )
            if rewriting:
                advisory = "advisory: formatter plugins were not run"
            if formatter.subdirectories:
                notes.append(
                    "the .formatter.exs files of subdirectories are not read by the App; "
                    "their files are checked with the root options"
                )
        if not config.formatter.elixir:
            return FormatterRun(
                line_length=line_length,
                unavailable="disabled in config (formatter.elixir: false)",
            )
        helper = self.helper
        if helper is None:
            why = (
                "the Elixir helper is still starting"
                if self.helper_state == "starting"
                else f"the Elixir helper is {self.helper_state}"
            )
            return FormatterRun(line_length=line_length, unavailable=why)
        locals_ = formatter.options().locals_without_parens if formatter is not None else ()
        opts = FormatterOptions(line_length, locals_)
        batch = [(f.path, f.text) for f in files if f.kind != "template"]
        results: dict[str, FormatResult] = {}
        for (path, _), res in zip(batch, helper.check_many(batch, opts), strict=True):
            results[path] = res
        return FormatterRun(results=results, line_length=line_length, advisory=advisory)
