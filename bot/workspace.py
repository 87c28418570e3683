"""The CLI's view of a local project: where its root is, which files to review, what git says
changed, and how to run the optional Elixir formatter on them.

Paths given to the engine are relative to the project root (the nearest directory with a
`mix.exs`), so file kinds (`lib/`, `test/`, `priv/repo/migrations/`) and the L3 lib-to-test
mapping mean the same thing in the CLI as in a pull request. Reports show paths relative to the
current directory instead, as the JSON contract says.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.diff import FileChange, parse_unified_diff, whole_file_change
from checks.config import Config
from checks.context import SourceFile
from checks.formatter import (
    ElixirHelper,
    FormatResult,
    FormatterConfig,
    FormatterOptions,
    project_needs_newer_elixir,
    read_formatter_exs,
    required_elixir,
)
from checks.ladder import FormatterRun
from checks.model import SkippedFile
from checks.paths import any_match, is_reviewable
from checks.sources import MAX_BYTES, prepare

# Build output, dependencies and editor state: never the project's own code.
IGNORED_DIRS = frozenset(
    {"_build", "deps", "node_modules", ".git", ".elixir_ls", ".lexical", "cover", ".hex", "tmp"}
)


# Plugins that only reformat markup inside ~H sigils: skipping them can hide a difference but
# never invent one, so formatter findings stay authoritative.
_MARKUP_ONLY = frozenset({"Phoenix.LiveView.HTMLFormatter"})


class WorkspaceError(Exception):
    """A usage problem (missing path, bad git ref): exit status 2 with this message."""


@dataclass
class Collected:
    files: list[SourceFile] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    # Paths under review; the other files are context (e.g. tests for L3).
    changed: set[str] = field(default_factory=set)
    changes: dict[str, FileChange] = field(default_factory=dict)


def find_root(paths: Sequence[Path], cwd: Path) -> Path:
    """The nearest ancestor (or self) of the first path that holds a mix.exs; without one, the
    current directory (or the given directory, when it lies outside the current one)."""
    # realpath, unlike Path.resolve on Python 3.11, does not raise on a symlink loop.
    start = Path(os.path.realpath(paths[0] if paths else cwd))
    if not start.is_dir():
        start = start.parent
    for candidate in (start, *start.parents):
        if (candidate / "mix.exs").is_file():
            return candidate
    here = cwd.resolve()
    return here if _inside(start, here) else start


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


@dataclass
class Workspace:
    root: Path
    cwd: Path
    config: Config
    _displayed: dict[str, str] = field(default_factory=dict, repr=False)

    def display(self, rel: str) -> str:
        """cwd-relative POSIX path (what reports show); memoised, since a report names the
        same few paths thousands of times."""
        shown = self._displayed.get(rel)
        if shown is None:
            shown = Path(os.path.relpath(self.root / rel, self.cwd)).as_posix()
            self._displayed[rel] = shown
        return shown

    def excluded(self, rel: str) -> bool:
        return any_match(rel, self.config.exclude)

    # --- collecting files ------------------------------------------------------------

    def collect(self, paths: Sequence[Path]) -> Collected:
        """Every reviewable file under `paths` (default: the root), all of them under review."""
        out = Collected()
        seen: set[str] = set()
        # The default is the current directory (`ladder check` == `ladder check .`), which may
        # be a subdirectory of the project root.
        for given in paths or [self.cwd]:
            if not given.exists() and not given.is_symlink():
                raise WorkspaceError(f"{given}: no such file or directory")
            for candidate in self._walk(given, out):
                self._add(candidate, out, seen, changed=True)
        self._add_test_context(out, seen)
        return out

    def _walk(self, given: Path, out: Collected) -> Iterable[Path]:
        if given.is_file() or given.is_symlink():
            yield given
            return
        for directory, dirnames, filenames in os.walk(given, followlinks=False):
            base = Path(directory)
            dirnames[:] = sorted(
                d for d in dirnames if d not in IGNORED_DIRS and not d.startswith(".")
            )
            for d in list(dirnames):
                if (base / d).is_symlink():
                    dirnames.remove(d)
                    self._skip(base / d, "symlinked directory (not followed)", out)
            for name in sorted(filenames):
                if is_reviewable(name):
                    yield base / name

    def _skip(self, path: Path, reason: str, out: Collected) -> None:
        try:
            rel = Path(os.path.normpath(path.absolute())).relative_to(self.root).as_posix()
        except ValueError:
            rel = path.as_posix()
        out.skipped.append(SkippedFile(rel, reason))

    def _add(self, path: Path, out: Collected, seen: set[str], *, changed: bool) -> None:
        """Prepare one file. Files that cannot be reviewed are listed in `skipped` when they were
        asked for (changed); context files that cannot be read are simply left out."""
        # normpath: `lib/../lib/a.ex` must become `lib/a.ex`, or kinds and test paths go wrong.
        # Plain strings and os calls: pathlib cost more than parsing a small file.
        absolute = os.path.normpath(os.path.abspath(path))
        root = str(self.root)
        if absolute.startswith(root + os.sep):
            rel = absolute[len(root) + 1 :].replace(os.sep, "/")
        else:
            rel = os.path.relpath(absolute, root).replace(os.sep, "/")
        if rel in seen or self.excluded(rel):
            return

        def skip(reason: str) -> None:
            if changed:
                out.skipped.append(SkippedFile(rel, reason))

        try:
            status = os.lstat(path)
        except OSError as exc:
            skip(f"cannot read: {exc.strerror or exc}")
            return
        if stat.S_ISLNK(status.st_mode):
            try:
                target = path.resolve(strict=True)
            except RuntimeError:  # Python 3.11 reports a symlink loop this way
                skip("symlink loop")
                return
            except OSError as exc:
                skip(f"broken symlink ({exc.strerror or exc})")
                return
            if not _inside(target, self.root):
                skip("symlink pointing outside the project root")
                return
        if not is_reviewable(rel):
            skip("not an Elixir source or template file")
            return
        seen.add(rel)
        try:
            size = os.stat(path).st_size if stat.S_ISLNK(status.st_mode) else status.st_size
            if size > MAX_BYTES:
                skip(f"file is {size:,} bytes, over the {MAX_BYTES:,}-byte limit")
                return
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            skip(f"cannot read: {exc.strerror or exc}")
            return
        prepared = prepare(rel, data, self.config)
        if isinstance(prepared, SkippedFile):
            skip(prepared.reason)
            return
        out.files.append(prepared)
        if changed:
            out.changed.add(rel)

    # --- git ---------------------------------------------------------------------------

    def collect_diff(self, base: str) -> Collected:
        """Files changed between `base` and the working tree (untracked files included), plus
        the project's tests as context for the rules that relate code to its tests."""
        try:
            self._git("rev-parse", "--verify", "--quiet", f"{base}^{{commit}}", what="git")
        except WorkspaceError as exc:
            raise WorkspaceError(
                f"--diff {base}: not a commit in this repository ({exc})"
            ) from exc
        diff = self._git(
            "diff",
            "--no-color",
            "--no-ext-diff",
            "-M",
            "--relative",
            "-U0",
            base,
            "--",
            what="git diff",
        )
        changes = parse_unified_diff(diff)
        # -z: NUL-separated and never quoted (git quotes non-ASCII names otherwise).
        untracked = [
            name
            for name in self._git(
                "ls-files", "-z", "--others", "--exclude-standard", what="git ls-files"
            ).split("\0")
            if name
        ]
        out = Collected()
        seen: set[str] = set()
        for rel, change in sorted(changes.items()):
            if is_reviewable(rel) and (self.root / rel).exists():
                out.changes[rel] = change
                self._add(self.root / rel, out, seen, changed=True)
        for rel in sorted(untracked):
            if is_reviewable(rel) and rel not in seen:
                path = self.root / rel
                self._add(path, out, seen, changed=True)
                if rel in out.changed:
                    lines = len(path.read_bytes().splitlines())
                    out.changes[rel] = whole_file_change(rel, lines)
        self._add_test_context(out, seen)
        return out

    def _add_test_context(self, out: Collected, seen: set[str]) -> None:
        """Tests and test support not already under review, as context, so "has this module a
        test?" has an answer when only part of the project is checked."""
        tests = self.config.paths.tests + self.config.paths.test_support
        for directory, dirnames, filenames in os.walk(self.root, followlinks=False):
            dirnames[:] = sorted(
                d for d in dirnames if d not in IGNORED_DIRS and not d.startswith(".")
            )
            for name in sorted(filenames):
                path = Path(directory) / name
                rel = path.relative_to(self.root).as_posix()
                if rel not in seen and is_reviewable(rel) and any_match(rel, tests):
                    self._add(path, out, seen, changed=False)

    def _git(self, *args: str, what: str) -> str:
        try:
            done = subprocess.run(
                ["git", "-C", str(self.root), *args],
                capture_output=True,
                text=True,
                errors="replace",
                check=False,
                timeout=120,
            )
        except FileNotFoundError as exc:
            raise WorkspaceError("--diff needs git, which is not on PATH") from exc
        except subprocess.TimeoutExpired as exc:
            raise WorkspaceError(f"{what} timed out") from exc
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            reason = detail[-1] if detail else f"exit status {done.returncode}"
            raise WorkspaceError(f"{what} failed: {reason}")
        return done.stdout

    # --- the formatter -----------------------------------------------------------------

    def formatter_config(self) -> FormatterConfig | None:
        path = self.root / ".formatter.exs"
        if not path.is_file():
            return None
        try:
            return read_formatter_exs(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            return None

    def line_length(self, formatter: FormatterConfig | None) -> int:
        if self.config.formatter.line_length is not None:
            return self.config.formatter.line_length
        if formatter is not None and formatter.line_length is not None:
            return formatter.line_length
        return 98

    def run_formatter(
        self, files: Sequence[SourceFile], *, use_elixir: bool, notes: list[str]
    ) -> FormatterRun:
        """Ask the Elixir helper for syntax and formatter verdicts; explain when it cannot."""
        formatter = self.formatter_config()
        line_length = self.line_length(formatter)
        if formatter is not None:
            if formatter.plugins:
                rewriting = [p for p in formatter.plugins if p not in _MARKUP_ONLY]
                notes.append(
                    f"formatter plugins in .formatter.exs ({', '.join(formatter.plugins)}) "
                    "cannot run here: L1.format compares with plain `mix format`"
                    + (", so its findings are notices" if rewriting else "")
                )
            unknown = formatter.unknown_deps
            if unknown:
                notes.append(
                    "import_deps without bundled formatter exports: "
                    + ", ".join(unknown)
                    + " (their paren-less calls may be reported as unformatted)"
                )
            if formatter.problems:
                notes.append(
                    ".formatter.exs parts that are not literals were ignored: "
                    + "; ".join(formatter.problems)
                )
        if not use_elixir:
            why = (
                "disabled in config (formatter.elixir: false)"
                if not self.config.formatter.elixir
                else "disabled by --no-elixir"
            )
            return FormatterRun(line_length=line_length, unavailable=why)
        helper = ElixirHelper.start()
        if helper is None:
            return FormatterRun(
                line_length=line_length, unavailable="the `elixir` executable is not on PATH"
            )
        groups = self._formatter_groups(formatter, line_length, files)
        results: dict[str, FormatResult] = {}
        with helper:
            for options, members in groups:
                batch = [(f.path, f.text) for f in members]
                for (path, _), verdict in zip(
                    batch, helper.check_many(batch, options), strict=True
                ):
                    results[path] = verdict
            version = helper.version
        advisory = self._version_skew(version)
        if advisory is not None:
            notes.append(advisory)
        rewriting = [p for p in (formatter.plugins if formatter else ()) if p not in _MARKUP_ONLY]
        if advisory is None and rewriting:
            # The plugins note above already says they cannot run; this only re-grades L1.
            advisory = "advisory: formatter plugins were not run"
        return FormatterRun(results=results, line_length=line_length, advisory=advisory)

    def _formatter_groups(
        self, root_config: FormatterConfig | None, line_length: int, files: Sequence[SourceFile]
    ) -> list[tuple[FormatterOptions, list[SourceFile]]]:
        """Files grouped by the formatter options that apply to them: a subdirectory listed in
        `subdirectories` (Phoenix puts one in priv/*/migrations) adds its own imports."""
        base = root_config.options() if root_config is not None else FormatterOptions()
        subdirs: list[tuple[str, FormatterOptions]] = []
        for pattern in root_config.subdirectories if root_config is not None else ():
            for directory in sorted(self.root.glob(pattern)):
                sub_file = directory / ".formatter.exs"
                if not sub_file.is_file():
                    continue
                sub = read_formatter_exs(sub_file.read_text(encoding="utf-8", errors="replace"))
                merged = tuple(
                    dict.fromkeys(
                        base.locals_without_parens + sub.options().locals_without_parens
                    )
                )
                prefix = directory.relative_to(self.root).as_posix().rstrip("/") + "/"
                subdirs.append((prefix, FormatterOptions(line_length, merged)))
        default = FormatterOptions(line_length, base.locals_without_parens)
        grouped: dict[FormatterOptions, list[SourceFile]] = {}
        for f in files:
            if f.kind == "template":
                continue
            options = next((o for prefix, o in subdirs if f.path.startswith(prefix)), default)
            grouped.setdefault(options, []).append(f)
        return list(grouped.items())

    def _version_skew(self, version: str) -> str | None:
        mix = self.root / "mix.exs"
        if not mix.is_file():
            return None
        requirement = required_elixir(mix.read_text(encoding="utf-8", errors="replace"))
        if not requirement:
            return None
        try:
            newer = project_needs_newer_elixir(version, requirement)
        except ValueError:
            return None  # an unreadable requirement is no reason to doubt the formatter
        if newer:
            return (
                f"advisory: the project requires Elixir {requirement} and the formatter "
                f"here is {version}"
            )
        return None
