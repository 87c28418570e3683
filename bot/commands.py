"""`/ladder ...` commands in pull request comments, parsed without I/O.

A command is a line of its own that starts with `/ladder`. Lines inside fenced code blocks and
quoted lines (`> /ladder recheck` in a reply) are not commands: quoting someone's command must
not run it again. Only the first command of a comment counts, so one comment is one action.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

CommandName = Literal["recheck", "explain", "help", "unknown"]

_COMMAND = re.compile(r"^/ladder(?:\s+(?P<verb>\S+))?(?:\s+(?P<arg>\S+))?", re.IGNORECASE)
_FENCE = re.compile(r"^(`{3,}|~{3,})")

HELP = (
    "Ladder understands:\n"
    "- `/ladder recheck`: review the current head of this pull request again "
    "(the author and collaborators with write access);\n"
    "- `/ladder explain RULE`: why a rule exists, with a bad and a good example "
    "(e.g. `/ladder explain L4.spec-missing`)."
)


@dataclass(frozen=True)
class Command:
    name: CommandName
    argument: str | None = None
    # The verb as written, for "unknown command" replies.
    verb: str = ""


def parse(body: str | None) -> Command | None:
    """The first `/ladder` command of a comment body, or None when there is none."""
    if not body:
        return None
    fence: str | None = None
    for raw in body.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        opened = _FENCE.match(line)
        if opened is not None:
            marker = opened.group(1)
            if fence is None:
                fence = marker[0] * len(marker)
            elif len(line) >= len(fence) and line.strip(fence[0]) == "":
                # A closing fence is the fence character alone, at least as long as the
                # opening one; "```elixir" inside a ``` block is content, not a close.
                fence = None
            continue
        if fence is not None or not line.lower().startswith("/ladder"):
            continue
        m = _COMMAND.match(line)
        if m is None or (len(line) > 7 and not line[7].isspace()):
            continue  # `/laddering` is not our command
        verb = (m.group("verb") or "").strip()
        argument = m.group("arg")
        lowered = verb.lower()
        if lowered in ("recheck", "rerun", "review"):
            return Command("recheck", verb=verb)
        if lowered == "explain":
            return Command("explain", argument.strip("`") if argument else None, verb=verb)
        if lowered in ("", "help"):
            return Command("help", verb=verb)
        return Command("unknown", argument, verb=verb)
    return None
