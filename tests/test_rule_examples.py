"""Every rule's own bad example must trip it and its good example must not: the examples that
`ladder explain` prints are therefore always true."""

from __future__ import annotations

import pytest

from checks.examples import run_example
from checks.model import RULE_ID
from checks.registry import all_rules

RULES = all_rules()


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_bad_example_is_flagged(rule):
    if rule.needs_elixir:
        pytest.skip("needs the Elixir helper; covered by its own tests")
    assert run_example(rule, rule.bad_example), f"{rule.id}: bad example not flagged"


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_good_example_is_clean(rule):
    if rule.needs_elixir:
        pytest.skip("needs the Elixir helper; covered by its own tests")
    assert run_example(rule, rule.good_example) == [], f"{rule.id}: good example flagged"


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_is_documented(rule):
    assert RULE_ID.match(rule.id)
    assert rule.title
    assert rule.title[0].isupper()
    assert len(rule.explanation) > 80, "explanations should say why, not just what"
    assert rule.bad_example.strip() != rule.good_example.strip()
