"""L3 test presence: public lib functions whose module has no test, and lib functions that
return `{:error, ...}` while no test of their module ever asserts an error.

These rules relate files, so they are project rules: every lib and test file is summarized
(`checks.l3_support.summary`) and the project pass compares the summaries. Only the files under
review get findings; test files fetched as context still count as tests. The ladder asks for
"all ok/error paths tested": the error rule is deliberately coarse (one `{:error, _}` asserted
anywhere in the module's tests satisfies it) because the names of error reasons are often built
at run time and cannot be matched statically.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from checks.context import FileContext, FileSummary, ProjectContext
from checks.l3_support import conventional_test_paths, returned_errors, summary
from checks.model import FileKind, Finding, Rule, Severity

LIB_AND_TESTS: frozenset[FileKind] = frozenset({"lib", "test"})

# Plumbing that is exercised through other tests (or generated and not unit-tested).
DEFAULT_UNTESTED_IGNORE = (
    r"(^|\.)(Application|Endpoint|Repo|Router|Socket|Telemetry|Gettext|Mailer|Layouts"
    r"|CoreComponents|Components|HTML|JSON|Presence)$",
    r"^[A-Z]\w*Web$",
)
# Web modules turn `{:error, _}` into responses; their tests assert on the response instead.
DEFAULT_ERROR_IGNORE = (
    r"(Controller|Live(\.\w+)?|Component|Components|HTML|JSON|Channel|Socket|Plug)$",
)


def _summarize(ctx: FileContext) -> dict[str, Any]:
    return summary(ctx)


class _Tests:
    """The test files of a project, indexed by path and by the modules they name."""

    def __init__(self, summaries: Sequence[FileSummary]) -> None:
        self.by_path: dict[str, FileSummary] = {}
        self.by_module: dict[str, list[FileSummary]] = {}
        for s in summaries:
            if s.kind != "test" or not s.data:
                continue
            self.by_path[s.path] = s
            for ref in s.data.get("refs", ()):
                self.by_module.setdefault(ref, []).append(s)

    def of(self, lib_path: str, module: str) -> list[FileSummary]:
        found = {
            self.by_path[p].path: self.by_path[p]
            for p in conventional_test_paths(lib_path)
            if p in self.by_path
        }
        for s in self.by_module.get(module, ()):
            found.setdefault(s.path, s)
        return list(found.values())


def _ignored(name: str, patterns: Sequence[str]) -> bool:
    return any(re.search(p, name) for p in patterns)


def _changed_modules(
    project: ProjectContext, rule: Rule
) -> Iterator[tuple[str, str, Any, Any, list[FileSummary]]]:
    """(lib path, module, functions, error candidates, covering tests) for every module of a
    changed lib file that the rule's `ignore_modules` does not exempt."""
    summaries = project.of(rule)
    tests = _Tests(summaries)
    ignore = [str(p) for p in project.param(rule, "ignore_modules")]
    for lib in summaries:
        if lib.kind != "lib" or lib.path not in project.changed:
            continue
        for name, functions, candidates in lib.data.get("modules", ()):
            if not _ignored(name, ignore):
                yield lib.path, name, functions, candidates, tests.of(lib.path, name)


def _untested(project: ProjectContext) -> Iterator[Finding]:
    for path, name, functions, _candidates, covering in _changed_modules(
        project, MODULE_UNTESTED
    ):
        if not functions or covering:
            continue
        expected = (conventional_test_paths(path) or ("a test file",))[0]
        for label, kind, line, end_line, column in functions:
            yield project.finding(
                MODULE_UNTESTED,
                path,
                line,
                f"public {kind} {name}.{label} has no test: no {expected} and no test "
                f"refers to {name}",
                end_line=end_line,
                column=column,
                fix=f"add {expected} covering the ok and error results",
            )


def _error_untested(project: ProjectContext) -> Iterator[Finding]:
    for path, name, _functions, candidates, covering in _changed_modules(project, ERROR_UNTESTED):
        if not candidates or not covering:
            continue  # no test at all is L3.module-untested's finding
        if any(t.data.get("asserts_error") for t in covering):
            continue
        # Only now, for a module whose tests never assert an error, is it worth finding
        # which candidate tuples its functions really return.
        errors = returned_errors(candidates)
        if not errors:
            continue
        shown = ", ".join(sorted(t.path for t in covering))
        for label, line, column, snippet in errors:
            yield project.finding(
                ERROR_UNTESTED,
                path,
                line,
                f"error path untested: {name}.{label} returns `{snippet}` but no test of "
                f"{name} ({shown}) asserts an `{{:error, _}}` result",
                column=column,
                fix="add a test that provokes the error and asserts `{:error, reason} = ...`",
            )


MODULE_UNTESTED = Rule(
    id="L3.module-untested",
    severity=Severity.WARNING,
    title="Public function whose module has no test",
    explanation=(
        "Code without tests is code nobody can change with confidence. A public function in "
        "`lib/` is reported when its module has no test: no file at the conventional path "
        "(`lib/shop/accounts.ex` -> `test/shop/accounts_test.exs`; for LiveView's layout also "
        "the parent directory's `_test.exs`) and no test file naming the module (directly, "
        "by alias, or as `<Module>Test`). Callbacks (`@impl`), `@doc false` functions and "
        "framework plumbing (`ignore_modules`: Endpoint, Repo, Router, ...) are exempt."
    ),
    bad_example=(
        "# file: lib/shop/accounts.ex\n"
        "defmodule Shop.Accounts do\n"
        '  @moduledoc "Accounts."\n'
        "  def get_user(id), do: {:ok, id}\n"
        "end\n"
    ),
    good_example=(
        "# file: lib/shop/accounts.ex\n"
        "defmodule Shop.Accounts do\n"
        '  @moduledoc "Accounts."\n'
        "  def get_user(id), do: {:ok, id}\n"
        "end\n"
        "# file: test/shop/accounts_test.exs\n"
        "defmodule Shop.AccountsTest do\n"
        "  use ExUnit.Case, async: true\n"
        '  test "get_user/1 returns the user" do\n'
        "    assert {:ok, 1} = Shop.Accounts.get_user(1)\n"
        "  end\n"
        "end\n"
    ),
    applies_to=LIB_AND_TESTS,
    params={"ignore_modules": DEFAULT_UNTESTED_IGNORE},
    summarize=_summarize,
    check_project=_untested,
)

ERROR_UNTESTED = Rule(
    id="L3.error-path-untested",
    severity=Severity.WARNING,
    title="Error path untested",
    explanation=(
        "Most catastrophic failures come from error handling that was never exercised. A lib "
        "function that returns a literal `{:error, ...}` needs a test that provokes it: the "
        "rule is reported when the module's tests exist but none asserts or matches an "
        "`{:error, _}` tuple. Web modules (controllers, LiveViews, components) turn errors "
        "into responses and are exempt (`ignore_modules`)."
    ),
    bad_example=(
        "# file: lib/shop/accounts.ex\n"
        "defmodule Shop.Accounts do\n"
        '  @moduledoc "Accounts."\n'
        "  def get_user(nil), do: {:error, :not_found}\n"
        "  def get_user(id), do: {:ok, id}\n"
        "end\n"
        "# file: test/shop/accounts_test.exs\n"
        "defmodule Shop.AccountsTest do\n"
        "  use ExUnit.Case, async: true\n"
        '  test "get_user/1 returns the user" do\n'
        "    assert {:ok, 1} = Shop.Accounts.get_user(1)\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "# file: lib/shop/accounts.ex\n"
        "defmodule Shop.Accounts do\n"
        '  @moduledoc "Accounts."\n'
        "  def get_user(nil), do: {:error, :not_found}\n"
        "  def get_user(id), do: {:ok, id}\n"
        "end\n"
        "# file: test/shop/accounts_test.exs\n"
        "defmodule Shop.AccountsTest do\n"
        "  use ExUnit.Case, async: true\n"
        '  test "get_user/1 returns not_found without an id" do\n'
        "    assert {:error, :not_found} = Shop.Accounts.get_user(nil)\n"
        "  end\n"
        "end\n"
    ),
    applies_to=LIB_AND_TESTS,
    params={"ignore_modules": DEFAULT_ERROR_IGNORE},
    summarize=_summarize,
    check_project=_error_untested,
)

RULES = (MODULE_UNTESTED, ERROR_UNTESTED)
