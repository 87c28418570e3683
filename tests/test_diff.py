"""Unified diffs to changed lines, and the diff filter.

GitHub's per-file `patch` strings are written out by hand below (they are what the pull request
files API returns); `git diff` output is produced by a real git in a temporary repository, so
the parser is tested against what git actually prints (quoted names, renames, `-U0`).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bot.diff import (
    FileChange,
    filter_findings,
    parse_patch,
    parse_unified_diff,
    whole_file_change,
)
from checks.model import Finding, Rule, Severity


def _patch(*lines: str) -> str:
    return "\n".join(lines) + "\n"


# --- parse_patch: GitHub `patch` strings --------------------------------------------------------

MULTI_HUNK = _patch(
    "@@ -1,6 +1,7 @@",
    " defmodule Shop.Accounts do",
    '   @moduledoc "Accounts."',
    "-  alias Shop.Repo",
    "+  alias Shop.Repo",
    "+  alias Shop.Accounts.User",
    " ",
    "   def get(id), do: Repo.get(User, id)",
    " ",
    "@@ -20,4 +21,5 @@ defmodule Shop.Accounts do",
    "   def list do",
    "     Repo.all(User)",
    "   end",
    "+  def count, do: Repo.aggregate(User, :count)",
    " end",
)


def test_multiple_hunks():
    change = parse_patch(MULTI_HUNK, "lib/shop/accounts.ex")
    assert change.path == "lib/shop/accounts.ex"
    assert change.added == {3, 4, 24}
    assert change.hunks == [(1, 7), (21, 25)]
    assert change.first_changed_line == 3
    assert change.in_hunk(7)
    assert change.in_hunk(21)
    assert not change.in_hunk(8)
    assert not change.in_hunk(26)


def test_pure_deletion_hunks():
    patch = _patch(
        "@@ -3,2 +2,0 @@",
        "-  alias Foo",
        "-  alias Bar",
        "@@ -10 +8,2 @@",
        "-  x = 1",
        "+  x = 2",
        "+  y = 3",
    )
    change = parse_patch(patch)
    assert change.added == {8, 9}
    # The deletion sits after new line 2: anchored there so comments can point at it.
    assert change.hunks == [(2, 2), (8, 9)]
    assert change.first_changed_line == 8


def test_only_deletions_anchor_on_the_first_hunk():
    change = parse_patch(_patch("@@ -7,3 +6,0 @@", "-a", "-b", "-c", "@@ -20,1 +16,0 @@", "-d"))
    assert change.added == set()
    assert change.hunks == [(6, 6), (16, 16)]
    assert change.first_changed_line == 6


def test_deleting_the_first_lines_anchors_on_line_1():
    change = parse_patch(_patch("@@ -1,2 +0,0 @@", "-# a", "-# b"))
    assert change.hunks == [(1, 1)]
    assert change.first_changed_line == 1


def test_no_newline_at_end_of_file_marker_after_the_old_line():
    patch = _patch(
        "@@ -1,3 +1,3 @@",
        " defmodule A do",
        "   def a, do: 1",
        "-end",
        "\\ No newline at end of file",
        "+end",
    )
    change = parse_patch(patch)
    assert change.added == {3}
    assert change.hunks == [(1, 3)]


def test_no_newline_at_end_of_file_marker_after_the_new_line():
    patch = _patch(
        "@@ -2,2 +2,3 @@",
        "   def a, do: 1",
        "-end",
        "+  def b, do: 2",
        "+end",
        "\\ No newline at end of file",
    )
    change = parse_patch(patch)
    assert change.added == {3, 4}
    assert change.hunks == [(2, 4)]


def test_no_newline_marker_on_both_sides():
    patch = _patch(
        "@@ -1,2 +1,2 @@",
        " a",
        "-b",
        "\\ No newline at end of file",
        "+c",
        "\\ No newline at end of file",
    )
    assert parse_patch(patch).added == {2}


@pytest.mark.parametrize(
    ("patch", "added", "hunks"),
    [
        (_patch("@@ -1 +1 @@", "-old", "+new"), {1}, [(1, 1)]),
        (_patch("@@ -5 +5,2 @@", "-old", "+new", " ctx"), {5}, [(5, 6)]),
        (_patch("@@ -5,2 +5 @@", "-old", "-old2", "+new"), {5}, [(5, 5)]),
        (_patch("@@ -3 +3,0 @@", "-gone"), set(), [(3, 3)]),
    ],
)
def test_counts_omitted_mean_one(patch, added, hunks):
    change = parse_patch(patch)
    assert change.added == added
    assert change.hunks == hunks


def test_counts_omitted_single_line_replacement():
    change = parse_patch("@@ -1 +1 @@\n-a\n+b")
    assert change.added == {1}
    assert change.hunks == [(1, 1)]


def test_added_lines_that_look_like_headers():
    patch = _patch(
        "@@ -1,2 +1,4 @@",
        " list =",
        "+++ [1]",  # added line whose text is `++ [1]`
        "+-- not a header",
        "   [0]",
    )
    change = parse_patch(patch)
    assert change.added == {2, 3}
    assert change.hunks == [(1, 4)]


def test_text_before_the_first_hunk_is_ignored():
    patch = _patch("--- a/x.ex", "+++ b/x.ex", "+not a hunk line", "@@ -1 +1 @@", "-a", "+b")
    assert parse_patch(patch).added == {1}


def test_empty_patch():
    change = parse_patch("")
    assert change.added == set()
    assert change.hunks == []
    assert change.first_changed_line == 1


def test_form_feed_inside_a_line_does_not_shift_line_numbers():
    patch = "@@ -1,3 +1,3 @@\n a\x0cb\n c\u2028d\n-e\n+E\n"
    assert parse_patch(patch).added == {3}


def test_crlf_patch():
    patch = "@@ -1,2 +1,2 @@\r\n a\r\n-b\r\n+B\r\n"
    change = parse_patch(patch)
    assert change.added == {2}
    assert change.hunks == [(1, 2)]


def test_whole_file_change():
    change = whole_file_change("lib/a.ex", 4)
    assert change.added == {1, 2, 3, 4}
    assert change.hunks == [(1, 4)]
    assert change.status == "added"
    assert whole_file_change("lib/empty.ex", 0).hunks == [(1, 1)]


# --- parse_unified_diff: real `git diff` --------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }
    done = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def _lines(n: int, prefix: str = "line") -> str:
    return "".join(f"  # {prefix} {i}\n" for i in range(1, n + 1))


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("repo")
    git(root, "init", "-q")
    lib = root / "lib"
    lib.mkdir()
    (lib / "keep.ex").write_text("defmodule Keep do\n" + _lines(8) + "end\n")
    (lib / "old_name.ex").write_text("defmodule Moved do\n" + _lines(12, "moved") + "end\n")
    (lib / "gone.ex").write_text("defmodule Gone do\nend\n")
    (lib / "café.ex").write_text("defmodule Cafe do\n  # a\nend\n")
    (lib / "feed.ex").write_text('defmodule Feed do\n  @x "a\x0cb"\n  # old\nend\n')
    (lib / "tail.ex").write_text("defmodule Tail do\nend")  # no newline at end of file
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "first")

    keep = (lib / "keep.ex").read_text().splitlines(keepends=True)
    keep[3] = "  # changed 3\n"  # line 4
    keep.insert(6, "  # inserted\n")  # new line 7
    del keep[9]  # old line 9 (# line 8), now a pure deletion
    (lib / "keep.ex").write_text("".join(keep))
    moved = (lib / "old_name.ex").read_text().replace("# moved 5", "# moved five")
    (lib / "old_name.ex").unlink()
    (lib / "new_name.ex").write_text(moved)
    (lib / "gone.ex").unlink()
    (lib / "new.ex").write_text("defmodule New do\n  # n\nend\n")
    (lib / "café.ex").write_text("defmodule Cafe do\n  # b\nend\n")
    (lib / "feed.ex").write_text('defmodule Feed do\n  @x "a\x0cb"\n  # new\nend\n')
    (lib / "tail.ex").write_text("defmodule Tail do\n  # t\nend\n")  # newline added
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "second")
    return root


@pytest.fixture(scope="module", params=["-U0", "-U3"])
def changes(request, repo) -> dict[str, FileChange]:
    diff = git(repo, "diff", "--no-color", "--no-ext-diff", "-M", request.param, "HEAD~1", "HEAD")
    assert "diff --git" in diff
    assert "\\ No newline at end of file" in diff
    return parse_unified_diff(diff)


def test_git_diff_paths(changes):
    assert set(changes) == {
        "lib/keep.ex",
        "lib/new_name.ex",
        "lib/new.ex",
        "lib/café.ex",
        "lib/feed.ex",
        "lib/tail.ex",
    }


def test_git_diff_modification(changes):
    keep = changes["lib/keep.ex"]
    assert keep.status == "modified"
    assert keep.added == {4, 7}
    assert keep.previous_path == "lib/keep.ex"
    for line in (4, 7, 9):  # 9: where the deleted line was
        assert keep.in_hunk(line), (line, keep.hunks)


def test_git_diff_rename_with_a_change(changes):
    moved = changes["lib/new_name.ex"]
    assert moved.status == "renamed"
    assert moved.previous_path == "lib/old_name.ex"
    assert moved.added == {6}


def test_git_diff_new_file(changes):
    new = changes["lib/new.ex"]
    assert new.status == "added"
    assert new.previous_path is None
    assert new.added == {1, 2, 3}
    assert new.hunks == [(1, 3)]


def test_git_diff_deleted_file_is_left_out(changes):
    assert "lib/gone.ex" not in changes


def test_git_diff_quoted_non_ascii_name(changes):
    cafe = changes["lib/café.ex"]
    assert cafe.added == {2}


def test_git_diff_form_feed_line(changes):
    assert changes["lib/feed.ex"].added == {3}


def test_git_diff_no_newline_at_end_of_file(changes):
    assert changes["lib/tail.ex"].added == {2, 3}


def test_git_diff_pure_rename(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "a.ex").write_text(_lines(5))
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "one")
    git(tmp_path, "mv", "a.ex", "b é.ex")
    git(tmp_path, "commit", "-q", "-m", "two")
    changes = parse_unified_diff(git(tmp_path, "diff", "-M", "HEAD~1", "HEAD"))
    assert set(changes) == {"b é.ex"}
    change = changes["b é.ex"]
    assert change.status == "renamed"
    assert change.previous_path == "a.ex"
    assert change.added == set()


def test_git_diff_working_tree_relative(repo):
    # What `ladder check --diff` runs: working tree against a ref, from a subdirectory root.
    (repo / "lib" / "keep.ex").write_text(
        (repo / "lib" / "keep.ex").read_text().replace("# line 1", "# line one")
    )
    try:
        diff = git(repo / "lib", "diff", "--no-color", "-M", "--relative", "-U0", "HEAD")
        assert parse_unified_diff(diff)["keep.ex"].added == {2}
    finally:
        git(repo, "checkout", "-q", "--", "lib/keep.ex")


def test_unified_diff_ignores_garbage():
    assert parse_unified_diff("") == {}
    assert parse_unified_diff("not a diff\n@@ -1 +1 @@\n+x\n") == {}


# --- filter_findings ----------------------------------------------------------------------------


def _noop(ctx):
    return []


FILE_RULE = Rule(
    id="L1.fake-format",
    severity=Severity.WARNING,
    title="Stand-in file-level rule",
    explanation="A file-level rule (like a syntax error or an unformatted file) for the tests.",
    bad_example="",
    good_example="",
    check=_noop,
    file_level=True,
)
LINE_RULE = Rule(
    id="L4.fake-line",
    severity=Severity.WARNING,
    title="Stand-in line rule",
    explanation="A rule whose findings belong to the lines they point at, for the diff tests.",
    bad_example="",
    good_example="",
    check=_noop,
)
RULES = {FILE_RULE.id: FILE_RULE, LINE_RULE.id: LINE_RULE}


def finding(path: str, line: int, rule: Rule = LINE_RULE, *, end: int | None = None) -> Finding:
    return Finding(
        path=path,
        line=line,
        end_line=end or line,
        column=5,
        level=rule.level,
        rule=rule.id,
        severity=rule.severity,
        message="something",
        suggestion="replacement\n",
    )


CHANGES = {
    "lib/a.ex": parse_patch(MULTI_HUNK, "lib/a.ex"),  # added {3, 4, 24}
    "lib/new.ex": FileChange("lib/new.ex", whole_file=True),
    "lib/del.ex": parse_patch(_patch("@@ -7,3 +6,0 @@", "-a", "-b", "-c"), "lib/del.ex"),
}

ON_ADDED = finding("lib/a.ex", 4)
SPANNING = finding("lib/a.ex", 20, end=25)
ON_CONTEXT = finding("lib/a.ex", 5)
OTHER_FILE = finding("lib/untouched.ex", 3)
WHOLE = finding("lib/new.ex", 40)
FILE_LEVEL_OFF = finding("lib/a.ex", 1, FILE_RULE)
FILE_LEVEL_ON = finding("lib/a.ex", 24, FILE_RULE)
FILE_LEVEL_DEL = finding("lib/del.ex", 30, FILE_RULE)
FILE_LEVEL_UNTOUCHED = finding("lib/untouched.ex", 1, FILE_RULE)
UNKNOWN_RULE = Finding("lib/a.ex", 1, 1, 1, 2, "L2.not-registered", Severity.WARNING, "x")
ALL = [
    ON_ADDED,
    SPANNING,
    ON_CONTEXT,
    OTHER_FILE,
    WHOLE,
    FILE_LEVEL_OFF,
    FILE_LEVEL_ON,
    FILE_LEVEL_DEL,
    FILE_LEVEL_UNTOUCHED,
    UNKNOWN_RULE,
]


def test_filter_added():
    result = filter_findings(ALL, CHANGES, "added", RULES)
    moved = [f for f in result.shown if f.rule == FILE_RULE.id and f.path == "lib/a.ex"]
    assert ON_ADDED in result.shown
    assert SPANNING in result.shown  # ends on added line 24
    assert WHOLE in result.shown  # no patch: the whole file counts as changed
    assert FILE_LEVEL_ON in result.shown  # already on an added line: untouched
    assert set(result.outside) == {ON_CONTEXT, OTHER_FILE, FILE_LEVEL_UNTOUCHED, UNKNOWN_RULE}
    assert len(result.shown) + len(result.outside) == len(ALL)
    assert len(moved) == 2  # FILE_LEVEL_OFF re-anchored, FILE_LEVEL_ON as is


def test_filter_added_reanchors_file_level_findings():
    result = filter_findings([FILE_LEVEL_OFF, FILE_LEVEL_DEL], CHANGES, "added", RULES)
    assert result.outside == []
    first, second = result.shown
    assert (first.path, first.line, first.end_line, first.column) == ("lib/a.ex", 3, 3, 1)
    assert first.message == "something (at line 1; shown on the first changed line)"
    assert first.suggestion is None  # the suggestion replaced the old line, not this one
    assert first.rule == FILE_RULE.id
    assert first.severity is FILE_RULE.severity
    # A file whose change is only a deletion: anchored where the deletion was.
    assert (second.path, second.line) == ("lib/del.ex", 6)
    assert "(at line 30;" in second.message


def test_filter_added_keeps_file_level_on_changed_line_unchanged():
    result = filter_findings([FILE_LEVEL_ON], CHANGES, "added", RULES)
    assert result.shown == [FILE_LEVEL_ON]
    assert result.shown[0].suggestion == "replacement\n"


def test_filter_file():
    result = filter_findings(ALL, CHANGES, "file", RULES)
    assert set(result.outside) == {OTHER_FILE, FILE_LEVEL_UNTOUCHED}
    assert ON_CONTEXT in result.shown
    assert FILE_LEVEL_OFF in result.shown  # not moved: the whole file is in view anyway
    assert UNKNOWN_RULE in result.shown


def test_filter_all():
    result = filter_findings(ALL, CHANGES, "all", RULES)
    assert result.shown == ALL
    assert result.outside == []


def test_filter_added_with_no_changes_leaves_everything_outside():
    result = filter_findings(ALL, {}, "added", RULES)
    assert result.shown == []
    assert result.outside == ALL


def test_filter_keeps_order():
    ordered = [ON_ADDED, SPANNING, WHOLE]
    assert filter_findings(ordered, CHANGES, "added", RULES).shown == ordered
