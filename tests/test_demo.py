"""`ladder demo` is the README's main command: it must run the real App end to end and say so."""

from __future__ import annotations

import io

import pytest

from bot.cli import main
from bot.demo import demo_trees, run_demo


async def test_demo_reviews_the_sample_pull_request_without_elixir():
    out = io.StringIO()
    status = await run_demo(out, use_elixir=False)
    text = out.getvalue()
    assert status == 0, text
    assert "HTTP 202" in text
    assert "Check Run “Ladder”: completed / failure" in text
    assert "Title: Reached L1 · requires L3" in text
    assert "| L5 | secure |" in text
    assert "L5.migration-index-not-concurrent" in text
    assert "Inline review comments (0)" not in text
    assert "<!-- ladder:fp=" in text
    assert ", each validated against GitHub's OpenAPI description: 0 invalid." in text


@pytest.mark.requires_elixir
def test_demo_command_exits_zero_with_the_elixir_helper(capsys):
    assert main(["demo"]) == 0
    text = capsys.readouterr().out
    assert "| L1 | formatted | 0 | ✅ pass |" in text


def test_demo_trees_include_dotfiles_and_differ_where_the_change_is():
    base, head = demo_trees()
    assert ".github/ladder.yml" in base
    assert ".formatter.exs" in base
    changed = {p for p in head if base.get(p) != head[p]}
    assert changed == {
        "lib/shop/accounts.ex",
        "lib/shop_web/controllers/user_controller.ex",
        "priv/repo/migrations/20240301000000_add_active_to_users.exs",
    }
