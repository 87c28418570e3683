"""L2 leftovers: debugging calls committed by mistake, and TODO/FIXME tags.

`IO.inspect`, `dbg` and `IEx.pry`/`require IEx` in lib code are debugging sessions that made it
into a commit (credo's Warning.IoInspect, Warning.Dbg, Warning.IExPry): they print to stdout in
production or stop the process. They are errors here. `IO.puts`/`IO.write` used as logging are
an L6 (observable) matter and are reported there, not here.

TODO and FIXME tags are notices (credo's Design.TagTODO / TagFIXME): they inform the reviewer
that the change knowingly leaves work behind, and never block.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from checks import elixir
from checks.context import FileContext
from checks.l2_support import (
    LIB_KINDS,
    START,
    code_after,
    derived,
    is_attribute_operand,
    is_def_head,
    pipes,
    right,
    source,
)
from checks.model import ELIXIR_KINDS, Finding, Rule, Severity

DOC_ATTRIBUTES = ("doc", "moduledoc", "typedoc", "shortdoc")


def _io_inspect(ctx: FileContext) -> Iterator[Finding]:
    for call in ctx.index.remote_calls("IO", "inspect"):
        yield ctx.finding(
            IO_INSPECT,
            call,
            "`IO.inspect` left in lib code prints to stdout in production",
            end_line=elixir.line_of(call),
            fix="remove it, or use `Logger.debug` with metadata if the value must be logged",
        )


def _dbg(ctx: FileContext) -> Iterator[Finding]:
    src = source(ctx)
    if b"dbg" not in src:
        return  # every finding names `dbg`
    found = [
        c
        for c in ctx.index.calls_named("dbg")
        if not is_attribute_operand(c) and not is_def_head(c)
    ]
    found += ctx.index.remote_calls("Kernel", "dbg")
    for pipe in pipes(ctx):
        # `x |> dbg`: the right side ends the pipe, so the pipe's text ends with `dbg`.
        end = pipe.end_byte
        if src[end - 3 : end] != b"dbg":
            continue
        rhs = right(pipe)
        if rhs is not None and rhs.type == "identifier" and elixir.text(rhs) == "dbg":
            found.append(rhs)
    for node in sorted(found, key=START):
        yield ctx.finding(
            DBG,
            node,
            "`dbg` left in lib code: a debugging session was committed",
            end_line=elixir.line_of(node),
            fix="remove the `dbg` call",
        )


def _iex_pry(ctx: FileContext) -> Iterator[Finding]:
    found = list(ctx.index.remote_calls("IEx", "pry"))
    requires = ctx.index.calls_named("require")
    if requires:
        src = source(ctx)
        for call in requires:
            # `require IEx` / `require(IEx)`: the first argument's text starts with `IEx`.
            at = code_after(src, call.start_byte + len("require"))
            if 0 <= at < len(src) and src[at] == 40:  # "("
                at = code_after(src, at + 1)
            if at != -1 and not src.startswith(b"IEx", at):
                continue
            args = elixir.call_args(call)
            if args and args[0].type == "alias" and elixir.text(args[0]) == "IEx":
                found.append(call)
    for node in sorted(found, key=START):
        what = "require IEx" if elixir.local_name(node) == "require" else "IEx.pry"
        yield ctx.finding(
            IEX_PRY,
            node,
            f"`{what}` left in lib code: it stops the process waiting for a shell",
            end_line=elixir.line_of(node),
            fix=f"remove `{what}`",
        )


def _any_case(tag: str) -> str:
    """`TODO` -> `[Tt][Oo][Dd][Oo]`: case-insensitive without the slow IGNORECASE flag."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in tag)


@lru_cache(maxsize=16)
def _comment_pattern(tags: tuple[str, ...]) -> re.Pattern[str]:
    any_case = "|".join(_any_case(t) for t in tags)
    return re.compile(rf"#[ \t]*({any_case})\b:?[ \t]*(.*)$", re.MULTILINE)


@lru_cache(maxsize=16)
def _comment_gate(tags: tuple[str, ...]) -> re.Pattern[bytes] | None:
    """A bytes pattern every comment tag matches (None for non-ASCII tags: no gate)."""
    if not all(t.isascii() for t in tags):
        return None
    any_case = "|".join(_any_case(t) for t in tags)
    return re.compile(rf"#[ \t]*(?:{any_case})".encode())


def _tag_settings(raw: Iterable[object]) -> tuple[list[str], re.Pattern[bytes] | None]:
    tags = [str(t) for t in raw]
    return tags, _comment_gate(tuple(tags)) if tags else None


def _todo_tags(ctx: FileContext) -> Iterator[Finding]:
    tags, gate = derived(ctx, TODO_TAG, "tags", _tag_settings)
    if not tags:
        return
    src = source(ctx)
    found: list[tuple[int, str, str]] = []
    if gate is None or gate.search(src) is not None:
        found += _comment_tags(ctx, tags)
    if ctx.param(TODO_TAG, "include_doc") and _tag_in_docs(ctx, src, tags):
        found += _doc_tags(ctx, "|".join(re.escape(t) for t in tags))
    for number, tag, rest in sorted(set(found)):
        detail = rest if len(rest) <= 80 else rest[:77] + "..."
        yield ctx.finding(
            TODO_TAG,
            number,
            f"{tag}: {detail}" if detail else f"{tag} tag",
            fix="do it in this change, or track it in an issue and link it here",
        )


def _comment_tags(ctx: FileContext, tags: list[str]) -> list[tuple[int, str, str]]:
    text = ctx.text
    comment = _comment_pattern(tuple(tags))
    found: list[tuple[int, str, str]] = []
    root = ctx.root
    line, counted = 1, 0
    for m in comment.finditer(text):
        line += text.count("\n", counted, m.start())
        counted = m.start()
        row_start = text.rfind("\n", 0, m.start()) + 1
        column = len(text[row_start : m.start()].encode("utf-8"))
        node = root.descendant_for_point_range((line - 1, column), (line - 1, column + 1))
        if node is None or node.type != "comment":
            continue
        found.append((line, m.group(1).upper(), m.group(2).strip()))
    return found


def _tag_in_docs(ctx: FileContext, src: bytes, tags: list[str]) -> bool:
    """Whether a tag is written inside a doc attribute (`_doc_tags` finds nothing else)."""
    needles = [t.encode("utf-8") for t in tags]
    find = src.find
    attributes = ctx.index.attributes
    for name in DOC_ATTRIBUTES:
        for attr in attributes(name):
            start, end = attr.start_byte, attr.end_byte
            for needle in needles:
                if find(needle, start, end) != -1:
                    return True
    return False


def _doc_tags(ctx: FileContext, alternation: str) -> list[tuple[int, str, str]]:
    """Tags inside @doc/@moduledoc text: upper-case only, so "a todo list" is not one."""
    pattern = re.compile(rf"\b({alternation})\b:?\s*(.*)$")
    found: list[tuple[int, str, str]] = []
    for name in DOC_ATTRIBUTES:
        for attr in ctx.index.attributes(name):
            value = elixir.attribute_value(attr)
            if value is None or value.type not in ("string", "sigil"):
                continue
            first = elixir.line_of(value)
            for offset, line in enumerate(elixir.text(value).splitlines()):
                m = pattern.search(line)
                if m is not None:
                    found.append((first + offset, m.group(1), m.group(2).strip(' "')))
    return found


IO_INSPECT = Rule(
    id="L2.io-inspect",
    severity=Severity.ERROR,
    title="IO.inspect left in lib code",
    explanation=(
        "`IO.inspect` is a debugging tool: in production it writes unstructured text to "
        "stdout, outside the logger's levels, metadata and formatting, and may leak data. "
        "Remove it, or log with `Logger.debug` (credo's Warning.IoInspect). `IO.puts` and "
        "`IO.write` used as logging are reported at L6."
    ),
    bad_example=(
        "defmodule Shop.Orders do\n"
        '  @moduledoc "Orders."\n'
        "  def place(order) do\n"
        "    order\n"
        '    |> IO.inspect(label: "order")\n'
        "    |> Map.put(:placed, true)\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Orders do\n"
        '  @moduledoc "Orders."\n'
        "  def place(order) do\n"
        "    Map.put(order, :placed, true)\n"
        "  end\n"
        "end\n"
    ),
    applies_to=LIB_KINDS,
    credo=("Warning.IoInspect",),
    check=_io_inspect,
)

DBG = Rule(
    id="L2.dbg",
    severity=Severity.ERROR,
    title="Dbg call left in lib code",
    explanation=(
        "`dbg/1,2` (Elixir 1.14+) prints code and values for a debugging session and, with "
        "IEx running, stops at a breakpoint. Committed, it prints in production or blocks "
        "a process (credo's Warning.Dbg)."
    ),
    bad_example=(
        "defmodule Shop.Orders do\n"
        '  @moduledoc "Orders."\n'
        "  def total(order), do: dbg(order.total)\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Orders do\n"
        '  @moduledoc "Orders."\n'
        "  def total(order), do: order.total\n"
        "end\n"
    ),
    applies_to=LIB_KINDS,
    credo=("Warning.Dbg",),
    check=_dbg,
)

IEX_PRY = Rule(
    id="L2.iex-pry",
    severity=Severity.ERROR,
    title="IEx.pry or require IEx left in lib code",
    explanation=(
        "`IEx.pry` stops the calling process until someone attaches a shell; `require IEx` "
        "only exists to call it. Either one in lib code is a debugging session that was "
        "committed (credo's Warning.IExPry)."
    ),
    bad_example=(
        "defmodule Shop.Orders do\n"
        '  @moduledoc "Orders."\n'
        "  require IEx\n"
        "  def place(order) do\n"
        "    IEx.pry()\n"
        "    order\n"
        "  end\n"
        "end\n"
    ),
    good_example=(
        'defmodule Shop.Orders do\n  @moduledoc "Orders."\n  def place(order), do: order\nend\n'
    ),
    applies_to=LIB_KINDS,
    credo=("Warning.IExPry",),
    check=_iex_pry,
)

TODO_TAG = Rule(
    id="L2.todo-tag",
    severity=Severity.NOTICE,
    title="TODO or FIXME tag",
    explanation=(
        "A `# TODO` or `# FIXME` comment (or a TODO in a @doc) marks work knowingly left "
        "undone. It is reported as a notice so the reviewer sees it, and never blocks "
        "(credo's Design.TagTODO and Design.TagFIXME). In comments the tag must open the "
        "comment, in any case; in docs it must be upper-case. Tunable: `tags`, `include_doc`."
    ),
    bad_example=(
        "defmodule Shop.Orders do\n"
        '  @moduledoc "Orders."\n'
        "  # TODO: handle partial refunds\n"
        "  def refund(order), do: order\n"
        "end\n"
    ),
    good_example=(
        "defmodule Shop.Orders do\n"
        '  @moduledoc "Orders."\n'
        "  # Partial refunds are handled by Shop.Refunds.\n"
        "  def refund(order), do: order\n"
        "end\n"
    ),
    applies_to=ELIXIR_KINDS,
    params={"tags": ("TODO", "FIXME"), "include_doc": True},
    credo=("Design.TagTODO", "Design.TagFIXME"),
    runs_on_broken_files=True,
    check=_todo_tags,
)

RULES = (IO_INSPECT, DBG, IEX_PRY, TODO_TAG)
