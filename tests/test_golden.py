"""The bundled example's full JSON report, byte for byte: any change in what Ladder says about a
known project shows up here as a reviewable diff of tests/golden/examples_shop.json.

Regenerate after an intended change with:
    LADDER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "examples_shop.json"


def _report(*extra: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["check", "examples/shop", "--format", "json", *extra], stdout=out)
    return code, out.getvalue()


def test_example_report_matches_golden(monkeypatch):
    monkeypatch.chdir(ROOT)
    code, text = _report("--no-elixir")
    if os.environ.get("LADDER_UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()
    report = json.loads(text)
    assert code == (0 if report["reached"] is not None and report["reached"] >= "L3" else 1)
    assert report["levels"]["L1"]["status"] == "skipped"  # no formatter: never "pass"


@pytest.mark.requires_elixir
def test_example_is_formatted_and_parses_with_the_elixir_helper(monkeypatch):
    """With the helper, the only change is L1: the example is formatted as mix format wants."""
    monkeypatch.chdir(ROOT)
    _, text = _report()
    with_elixir = json.loads(text)
    golden = json.loads(GOLDEN.read_text())
    assert with_elixir["levels"]["L1"]["status"] == "pass"
    assert [f for f in with_elixir["findings"] if f["level"] in ("L0", "L1")] == [
        f for f in golden["findings"] if f["level"] in ("L0", "L1")
    ]
    assert {k: v for k, v in with_elixir["levels"].items() if k != "L1"} == {
        k: v for k, v in golden["levels"].items() if k != "L1"
    }
