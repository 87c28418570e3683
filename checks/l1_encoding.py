"""L1 formatted: the file is UTF-8, and undamaged.

Elixir source files are UTF-8 by definition; bytes that are not decode to replacement
characters here, and the compiler and `mix format` reject or mangle them. The file is still
reviewed (with U+FFFD in place of the bad bytes), so this is a notice that explains why other
findings may quote odd characters, anchored on the first line that holds a replacement.

A file that *is* valid UTF-8 but already contains U+FFFD was almost always damaged earlier by
an encoding conversion that lost the original characters; that is reported the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from checks.context import FileContext
from checks.model import Finding, Rule, Severity


def _check(ctx: FileContext) -> Iterable[Finding]:
    if ctx.source_file.decode_problem is None and "\ufffd" not in ctx.text:
        return ()  # the common case, without starting a generator
    return _found(ctx)


def _found(ctx: FileContext) -> Iterator[Finding]:
    problem = ctx.source_file.decode_problem
    at = ctx.text.find("\ufffd")
    line = min(ctx.text.count("\n", 0, at) + 1 if at != -1 else 1, max(1, len(ctx.lines)))
    if problem is not None:
        message = f"file is {problem}"
    else:
        message = (
            "file contains U+FFFD replacement characters: an earlier encoding conversion "
            "lost the original characters"
        )
    yield ctx.finding(NOT_UTF8, line, message, fix="re-save the file as UTF-8")


NOT_UTF8 = Rule(
    id="L1.not-utf8",
    severity=Severity.NOTICE,
    title="File is not valid UTF-8 or was damaged by a conversion",
    explanation=(
        "Elixir source must be UTF-8. Bytes that are not valid UTF-8 (often a file saved as "
        "Latin-1 or Windows-1252) break the compiler's tokenizer or end up as mojibake in "
        "strings shown to users. Ladder decodes such a file with replacement characters and "
        "still reviews it; this notice says so and points at the first bad line. A U+FFFD "
        "already present in a valid file is reported too: it is what a lossy conversion "
        "leaves behind."
    ),
    bad_example='defmodule Shop.Cart do\n  @moduledoc "Caf\ufffd"\nend\n',
    good_example='defmodule Shop.Cart do\n  @moduledoc "Café"\nend\n',
    file_level=True,
    runs_on_broken_files=True,
    check=_check,
)

RULES = (NOT_UTF8,)
