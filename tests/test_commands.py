"""`/ladder` comment commands: what counts as a command and what does not."""

from __future__ import annotations

import pytest

from bot.commands import HELP, Command, parse


@pytest.mark.parametrize(
    "body",
    [
        "/ladder recheck",
        "/LADDER RECHECK",
        "/Ladder Recheck",
        "/ladder    recheck   ",
        "   /ladder recheck",
        "/ladder\trecheck",
        "/ladder recheck please",
    ],
)
def test_recheck_spellings(body: str) -> None:
    command = parse(body)
    assert command is not None
    assert command.name == "recheck"
    assert command.argument is None


@pytest.mark.parametrize("verb", ["rerun", "review", "REVIEW"])
def test_recheck_synonyms(verb: str) -> None:
    assert parse(f"/ladder {verb}") == Command("recheck", verb=verb)


def test_recheck_keeps_the_verb_as_written() -> None:
    assert parse("/ladder ReCheck") == Command("recheck", verb="ReCheck")


def test_explain_takes_the_rule_id() -> None:
    assert parse("/ladder explain L4.spec-missing") == Command(
        "explain", "L4.spec-missing", verb="explain"
    )


def test_explain_strips_backticks_around_the_rule() -> None:
    command = parse("/ladder explain `L4.spec-missing`")
    assert command is not None
    assert command.name == "explain"
    assert command.argument == "L4.spec-missing"


def test_explain_with_extra_spaces_and_case() -> None:
    command = parse("/Ladder   EXPLAIN    L2.no-io-in-core  ")
    assert command is not None
    assert (command.name, command.argument) == ("explain", "L2.no-io-in-core")


def test_explain_without_a_rule_has_no_argument() -> None:
    # The reply then asks which rule; the parser must not invent one.
    assert parse("/ladder explain") == Command("explain", None, verb="explain")


@pytest.mark.parametrize("body", ["/ladder", "/ladder   ", "/LADDER", "/ladder help"])
def test_bare_command_or_help_is_help(body: str) -> None:
    command = parse(body)
    assert command is not None
    assert command.name == "help"
    assert command.argument is None


def test_unknown_verb_is_reported_with_its_spelling() -> None:
    assert parse("/ladder frobnicate now") == Command("unknown", "now", verb="frobnicate")
    assert parse("/ladder Approve") == Command("unknown", None, verb="Approve")


def test_help_text_names_both_commands() -> None:
    assert "/ladder recheck" in HELP
    assert "/ladder explain" in HELP


@pytest.mark.parametrize("body", [None, "", "\n\n", "LGTM", "please run /ladder recheck"])
def test_no_command(body: str | None) -> None:
    # A command must start its line: mentioning it mid-sentence does not run it.
    assert parse(body) is None


@pytest.mark.parametrize("body", ["/laddering", "/ladder-recheck", "/ladder.recheck", "/ladders"])
def test_longer_words_are_not_the_command(body: str) -> None:
    assert parse(body) is None


def test_laddering_line_does_not_hide_a_later_command() -> None:
    assert parse("/laddering is fun\n/ladder recheck") == Command("recheck", verb="recheck")


@pytest.mark.parametrize(
    "body",
    [
        "> /ladder recheck",
        ">/ladder recheck",
        "> > /ladder recheck",
        "Thanks!\n\n> /ladder recheck\n\nwill do",
    ],
)
def test_quoted_commands_are_ignored(body: str) -> None:
    assert parse(body) is None


def test_quote_then_own_command_runs_the_own_one() -> None:
    body = "> /ladder explain L1.format\n\n/ladder recheck"
    assert parse(body) == Command("recheck", verb="recheck")


@pytest.mark.parametrize(
    "body",
    [
        "```\n/ladder recheck\n```",
        "```text\n/ladder recheck\n```",
        "~~~\n/ladder recheck\n~~~",
        "~~~markdown\n/ladder recheck\n~~~",
        "````\n```\n/ladder recheck\n```\n````",
        # A ``` line does not close a ~~~ fence.
        "~~~\n```\n/ladder recheck\n~~~",
        # Unclosed fence: everything after it is code.
        "Try this:\n```\n/ladder recheck",
    ],
)
def test_commands_inside_fences_are_ignored(body: str) -> None:
    assert parse(body) is None


def test_command_after_a_closed_fence_counts() -> None:
    body = "Example:\n```\n/ladder explain L4.x\n```\n/ladder recheck"
    assert parse(body) == Command("recheck", verb="recheck")


def test_command_after_a_closed_tilde_fence_counts() -> None:
    body = "~~~~\n/ladder help\n~~~~\n/ladder explain L3.x"
    assert parse(body) == Command("explain", "L3.x", verb="explain")


def test_only_the_first_command_counts() -> None:
    body = "/ladder explain L4.spec-missing\n/ladder recheck"
    assert parse(body) == Command("explain", "L4.spec-missing", verb="explain")
    assert parse("/ladder recheck\n/ladder explain L4.x") == Command("recheck", verb="recheck")


def test_first_command_counts_even_when_unknown() -> None:
    # One comment, one action: a typo is answered, not skipped in favour of a later line.
    command = parse("/ladder rechek\n/ladder recheck")
    assert command is not None
    assert command.name == "unknown"
    assert command.verb == "rechek"


def test_crlf_bodies() -> None:
    body = "Fixed it.\r\n\r\n/ladder explain L4.spec-missing\r\n"
    assert parse(body) == Command("explain", "L4.spec-missing", verb="explain")
    assert parse("```\r\n/ladder recheck\r\n```\r\n") is None
    assert parse("```\r\n/ladder help\r\n```\r\n/ladder recheck\r\n") == Command(
        "recheck", verb="recheck"
    )


def test_command_in_the_middle_of_a_comment() -> None:
    body = "Pushed a fix for the spec.\n\n/ladder recheck\n\nThanks!"
    assert parse(body) == Command("recheck", verb="recheck")


def test_fence_line_with_an_info_string_does_not_close_a_fence() -> None:
    # CommonMark: a closing fence has no info string, so "```elixir" inside a ``` block is
    # content and the command after it is still inside the code block.
    body = "```\nexample:\n```elixir\n/ladder recheck\n```"
    assert parse(body) is None


def test_longer_closing_fence_closes() -> None:
    # CommonMark: the closing fence may be longer than the opening one.
    assert parse("```\n/ladder help\n`````\n/ladder recheck") == Command(
        "recheck", verb="recheck"
    )
