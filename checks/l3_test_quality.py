"""L3 test quality: tests that cannot fail, names that say nothing, slow or silent test files.

* a `test`/`property` without any assertion passes whatever the code does (error);
* a vague name ("works", "test email") does not say which behaviour broke when it fails;
* `use ExUnit.Case`/`*.DataCase`/`*.ConnCase` without `async:` runs serially by default
  (credo's Refactor.PassAsyncInTestCases; a notice, since shared state may forbid it);
* `@tag :skip` without a comment saying why becomes a permanent skip (credo's
  Design.SkipTestWithoutComment);
* a test file not named `*_test.exs` is never run by `mix test` (credo's
  Warning.WrongTestFilename / WrongTestFileExtension);
* `Process.sleep` in a test makes it slow and flaky; wait on a message instead (a notice).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from tree_sitter import Node

from checks import elixir
from checks.context import FileContext
from checks.l2_support import START, TEST_KINDS
from checks.l3_support import named_tests, silent_tests, test_blocks
from checks.model import FileKind, Finding, Rule, Severity

TEST_AND_LIB: frozenset[FileKind] = frozenset({"test", "lib"})

FILLER_WORDS = [
    "test",
    "tests",
    "testing",
    "it",
    "works",
    "work",
    "working",
    "correctly",
    "properly",
    "fine",
    "ok",
    "okay",
    "as",
    "expected",
    "should",
    "the",
    "a",
    "an",
    "basic",
    "simple",
    "stuff",
    "thing",
    "things",
    "case",
]


def _without_assertion(ctx: FileContext) -> Iterator[Finding]:
    if not named_tests(ctx):
        return
    extra = frozenset(str(n) for n in ctx.param(NO_ASSERTION, "assertion_functions"))
    for test, name in silent_tests(ctx, extra):
        label = f'"{name}"' if name is not None else "this test"
        kind = elixir.local_name(test)
        yield ctx.finding(
            NO_ASSERTION,
            test,
            f"{kind} {label} asserts nothing: it passes whatever the code does",
            end_line=elixir.line_of(test),
            fix="assert on the result (`assert {:ok, %User{}} = ...`) or on a message "
            "(`assert_receive`)",
        )


@lru_cache(maxsize=8)
def _lowered(words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(str(w).lower() for w in words)


def _vague_names(ctx: FileContext) -> Iterator[Finding]:
    min_words = int(ctx.param(VAGUE_NAME, "min_words"))
    filler = _lowered(tuple(ctx.param(VAGUE_NAME, "filler_words")))
    for test, name in named_tests(ctx):
        if name is None:
            continue
        words = name.split()
        if len(words) >= min_words and _meaningful(words, filler):
            continue
        kind = elixir.local_name(test)
        yield ctx.finding(
            VAGUE_NAME,
            test,
            f'{kind} name "{name}" is vague: say what behaviour is expected and when',
            end_line=elixir.line_of(test),
            fix='name the outcome and the condition, e.g. "returns an error when the email '
            'is taken"',
        )


# Per filler set: word -> whether it is meaningful (test names reuse a small vocabulary).
_MEANINGFUL: dict[frozenset[str], dict[str, bool]] = {}


def _meaningful(words: list[str], filler: frozenset[str]) -> bool:
    """Whether at least two of the words are not filler."""
    known = _MEANINGFUL.get(filler)
    if known is None or len(known) > 50_000:
        if len(_MEANINGFUL) > 8:
            _MEANINGFUL.clear()
        known = _MEANINGFUL[filler] = {}
    seen = 0
    for word in words:
        meaningful = known.get(word)
        if meaningful is None:
            meaningful = known[word] = word.lower().strip(".,:;!?'\"") not in filler
        if meaningful:
            seen += 1
            if seen == 2:
                return True
    return False


def _not_async(ctx: FileContext) -> Iterator[Finding]:
    if not ctx.path.endswith("_test.exs"):
        return
    source = ctx.source
    # `_case_module` wants an alias ending in "Case": a `use` without the word is no candidate.
    uses = [
        u
        for u in ctx.index.calls_named("use")
        if source.find(b"Case", u.start_byte, u.end_byte) >= 0
    ]
    if not uses:
        return
    for module in ctx.modules:
        for use in _module_uses(module, uses):
            case = _case_module(use)
            if case is None:
                continue
            if "async" in elixir.keyword_pairs(use):
                continue
            yield ctx.finding(
                NOT_ASYNC,
                use,
                f"`use {case}` without `async:` runs this module's tests one at a time",
                end_line=elixir.line_of(use),
                fix=f"write `use {case}, async: true`, or `async: false` with a comment saying "
                "which shared state forbids it",
            )


def _module_uses(module: elixir.Module, uses: list[Node]) -> list[Node]:
    """`module.uses()` from the file's `use` calls: those that are statements of its body
    (their parent is the module's do block), without asking every statement for its name."""
    node = module.node
    start, end = node.start_byte, node.end_byte
    found: list[Node] = []
    for use in uses:
        if start <= use.start_byte < end:
            parent = use.parent
            if parent is not None and parent.type == "do_block" and parent.parent == node:
                found.append(use)
    return found


def _case_module(use: Node) -> str | None:
    args = elixir.call_args(use)
    if not args or args[0].type != "alias":
        return None
    name = elixir.text(args[0])
    return name if name.endswith("Case") else None


SKIP_ATTRIBUTES = ("tag", "moduletag", "describetag")


def _skipped(ctx: FileContext) -> Iterator[Finding]:
    for name in SKIP_ATTRIBUTES:
        for attr in ctx.index.attributes(name):
            if not _is_skip(elixir.attribute_value(attr)):
                continue
            if _explained(ctx, attr):
                continue
            yield ctx.finding(
                SKIP_WITHOUT_REASON,
                attr,
                f"`@{name} :skip` without a comment saying why the test is skipped",
                fix="add a comment on the line above (why, and when it can be re-enabled), "
                'or write `@tag skip: "reason"`',
                end_line=elixir.line_of(attr),
            )


def _is_skip(value: Node | None) -> bool:
    if value is None:
        return False
    if value.type == "atom":
        return elixir.text(value) == ":skip"
    skip = elixir.keyword_pairs(value).get("skip") if value.type == "keywords" else None
    return skip is not None and skip.type == "boolean" and elixir.text(skip) == "true"


def _explained(ctx: FileContext, attr: Node) -> bool:
    """A comment on the line above, or at the end of the attribute's own line."""
    row = attr.start_point.row
    same_line = ctx.lines[row] if row < len(ctx.lines) else ""
    tail = same_line.encode("utf-8")[attr.end_point.column :].decode("utf-8", "replace")
    if tail.strip().startswith("#"):
        return True
    return row > 0 and ctx.lines[row - 1].strip().startswith("#")


def _file_name(ctx: FileContext) -> Iterator[Finding]:
    path = ctx.path
    if ctx.kind == "lib":
        if path.endswith("_test.ex") and ("/test/" in path or path.startswith("test/")):
            yield ctx.finding(
                FILE_NAME,
                1,
                f"{path} ends in `.ex`: `mix test` only runs `*_test.exs` files",
                fix="rename it to end in `_test.exs`",
            )
        return
    if path.endswith("_test.exs"):
        return
    anchor: Node | None = None
    for module in ctx.modules:
        for use in module.uses():
            if _case_module(use) is not None:
                anchor = use
                break
        if anchor is not None:
            break
    if anchor is None:
        tests = test_blocks(ctx)
        anchor = tests[0] if tests else None
    if anchor is None:
        return  # a helper script under test/, not a test file
    base = path.rsplit("/", 1)[-1]
    stem = re.sub(r"^test_|(_tests?)?\.exs$", "", base)
    wanted = f"{stem}_test.exs"
    yield ctx.finding(
        FILE_NAME,
        anchor,
        f"{base} holds tests but `mix test` only runs files ending in `_test.exs`: "
        "they never run",
        end_line=elixir.line_of(anchor),
        fix=f"rename it to {wanted}",
    )


def _sleep(ctx: FileContext) -> Iterator[Finding]:
    calls = ctx.index.remote_calls("Process", "sleep") + ctx.index.remote_calls(":timer", "sleep")
    for call in sorted(calls, key=START):
        yield ctx.finding(
            SLEEP,
            call,
            f"`{elixir.text(elixir.call_target(call))}` in a test: slow, and flaky when the "
            "wait is too short",
            end_line=elixir.line_of(call),
            fix="wait for the event instead (`assert_receive`, a monitor, or polling with a "
            "timeout)",
        )


NO_ASSERTION = Rule(
    id="L3.test-without-assertion",
    severity=Severity.ERROR,
    title="Test without an assertion",
    explanation=(
        "A test that asserts nothing passes whatever the code does: it only proves the code "
        "does not raise. Assertions are `assert*`/`refute*` (including `assert_raise`, "
        "`assert_receive` and library helpers such as `assert_email_sent`), `flunk`, Mox's "
        "`expect`/`verify!`, or a call to a helper of the same file that asserts. A `property` "
        "counts as a test. More assertion helpers can be listed in `assertion_functions`."
    ),
    bad_example=(
        "defmodule Shop.AccountsTest do\n"
        "  use Shop.DataCase, async: true\n"
        '  test "creates a user with valid attributes" do\n'
        '    Shop.Accounts.create_user(%{email: "a@b.c"})\n'
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.AccountsTest do\n"
        "  use Shop.DataCase, async: true\n"
        '  test "creates a user with valid attributes" do\n'
        '    assert {:ok, _user} = Shop.Accounts.create_user(%{email: "a@b.c"})\n'
        "  end\n"
        "end\n"
    ),
    applies_to=TEST_KINDS,
    params={"assertion_functions": ()},
    example_path="test/shop/accounts_test.exs",
    check=_without_assertion,
)

VAGUE_NAME = Rule(
    id="L3.test-name-vague",
    severity=Severity.WARNING,
    title="Vague test name",
    explanation=(
        'When a test fails, its name is the first thing anyone reads. "works" or "test '
        'email" says nothing; "returns an error when the email is taken" says what broke. '
        "Names with fewer than `min_words` (3) words, or with fewer than two words left after "
        "dropping filler (`test`, `it`, `works`, `correctly`, ...), are reported."
    ),
    bad_example=(
        "defmodule Shop.AccountsTest do\n"
        "  use Shop.DataCase, async: true\n"
        '  test "it works" do\n'
        "    assert Shop.Accounts.list_users() == []\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.AccountsTest do\n"
        "  use Shop.DataCase, async: true\n"
        '  test "list_users/0 returns no users on an empty database" do\n'
        "    assert Shop.Accounts.list_users() == []\n"
        "  end\n"
        "end\n"
    ),
    applies_to=TEST_KINDS,
    params={"min_words": 3, "filler_words": tuple(FILLER_WORDS)},
    example_path="test/shop/accounts_test.exs",
    check=_vague_names,
)

NOT_ASYNC = Rule(
    id="L3.test-not-async",
    severity=Severity.NOTICE,
    title="Test case used without async option",
    explanation=(
        "`use ExUnit.Case` (or a `*Case` template such as DataCase/ConnCase) without `async:` "
        "runs the module's tests serially, which slows the suite for no reason when the tests "
        "share no global state (the Ecto sandbox supports async tests). Write `async: true`, "
        "or `async: false` with a comment saying why (credo's Refactor.PassAsyncInTestCases)."
    ),
    bad_example=(
        "defmodule Shop.MathTest do\n"
        "  use ExUnit.Case\n"
        '  test "adds two positive numbers" do\n'
        "    assert 1 + 1 == 2\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.MathTest do\n"
        "  use ExUnit.Case, async: true\n"
        '  test "adds two positive numbers" do\n'
        "    assert 1 + 1 == 2\n"
        "  end\n"
        "end\n"
    ),
    applies_to=TEST_KINDS,
    example_path="test/shop/math_test.exs",
    credo=("Refactor.PassAsyncInTestCases",),
    check=_not_async,
)

SKIP_WITHOUT_REASON = Rule(
    id="L3.skip-without-reason",
    severity=Severity.WARNING,
    title="Skipped test without a reason",
    explanation=(
        "`@tag :skip` is meant to be temporary; without a comment saying why (and when it can "
        "be re-enabled) it becomes permanent and the behaviour silently loses its test. Put "
        'the reason in a comment on the line above, or use `@tag skip: "reason"` (credo\'s '
        "Design.SkipTestWithoutComment). `@moduletag` and `@describetag` count too."
    ),
    bad_example=(
        "defmodule Shop.PaymentsTest do\n"
        "  use ExUnit.Case, async: true\n"
        "  @tag :skip\n"
        '  test "charges the card on checkout" do\n'
        "    assert true\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.PaymentsTest do\n"
        "  use ExUnit.Case, async: true\n"
        "  # The sandbox API is down until the vendor renews our key (SHOP-123).\n"
        "  @tag :skip\n"
        '  test "charges the card on checkout" do\n'
        "    assert true\n"
        "  end\n"
        "end\n"
    ),
    applies_to=TEST_KINDS,
    example_path="test/shop/payments_test.exs",
    credo=("Design.SkipTestWithoutComment",),
    check=_skipped,
)

FILE_NAME = Rule(
    id="L3.test-file-name",
    severity=Severity.ERROR,
    title="Test file not named *_test.exs",
    explanation=(
        "`mix test` only loads files matching `*_test.exs` under `test/`. A file of tests named "
        "otherwise (`accounts_tests.exs`, `test_accounts.exs`, `accounts_test.ex`) is never "
        "run, so its tests give false confidence (credo's Warning.WrongTestFilename and "
        "WrongTestFileExtension). Helper scripts without tests are not reported."
    ),
    bad_example=(
        "defmodule Shop.AccountsTest do\n"
        "  use ExUnit.Case, async: true\n"
        '  test "lists no users on an empty database" do\n'
        "    assert Shop.Accounts.list_users() == []\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.TestHelpers do\n"
        '  @moduledoc "Helpers for the tests."\n'
        '  def user_attrs, do: %{email: "a@b.c"}\n'
        "end\n"
    ),
    applies_to=TEST_AND_LIB,
    example_path="test/shop/accounts_tests.exs",
    credo=("Warning.WrongTestFilename", "Warning.WrongTestFileExtension"),
    file_level=True,
    check=_file_name,
)

SLEEP = Rule(
    id="L3.process-sleep",
    severity=Severity.NOTICE,
    title="Process.sleep in a test",
    explanation=(
        "Sleeping in a test guesses how long something takes: too short and the test is "
        "flaky on a busy CI machine, too long and the suite is slow. Wait for the event "
        "itself: `assert_receive` with a timeout, a process monitor, or a polling helper."
    ),
    bad_example=(
        "defmodule Shop.WorkerTest do\n"
        "  use ExUnit.Case, async: true\n"
        '  test "sends the receipt after checkout" do\n'
        "    Shop.Worker.checkout(self())\n"
        "    Process.sleep(100)\n"
        "    assert_received :receipt\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.WorkerTest do\n"
        "  use ExUnit.Case, async: true\n"
        '  test "sends the receipt after checkout" do\n'
        "    Shop.Worker.checkout(self())\n"
        "    assert_receive :receipt, 1_000\n"
        "  end\n"
        "end\n"
    ),
    applies_to=TEST_KINDS,
    example_path="test/shop/worker_test.exs",
    check=_sleep,
)

RULES = (NO_ASSERTION, VAGUE_NAME, NOT_ASYNC, SKIP_WITHOUT_REASON, FILE_NAME, SLEEP)
