"""Shrinking a core of conflicting rules: what is left still conflicts, and none of it
can be left out (every rule named is needed)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from creneau.solver._solve import Key, shrink

RULES = [("rule", str(i)) for i in range(16)]


@settings(max_examples=300, deadline=None)
@given(
    cores=st.lists(st.sets(st.sampled_from(RULES), min_size=1, max_size=5), min_size=1, max_size=4),
    shuffled=st.permutations(RULES),
    tells_smaller=st.booleans(),
)
def test_a_shrunk_core_still_conflicts_and_every_rule_of_it_is_needed(
    cores: list[set[Key]], shuffled: list[Key], tells_smaller: bool
) -> None:
    # An edition whose rules conflict when all the rules of one of ``cores`` are on
    # (lifting rules never makes it harder).
    def conflict(keys: set[Key]) -> set[Key] | None:
        return next((c for c in cores if c <= keys), None)

    checks: list[list[Key]] = []

    def conflicts_still(trial: list[Key]) -> list[Key] | None:
        checks.append(trial)
        core = conflict(set(trial))
        if core is None:
            return None
        return [k for k in trial if k in core] if tells_smaller else trial

    start = list(shuffled)  # every rule on: some core conflicts
    kept = shrink(list(start), conflicts_still)
    assert set(kept) <= set(start)
    assert conflict(set(kept)) is not None
    for k in kept:
        assert conflict(set(kept) - {k}) is None, (kept, k)
    # Halves, quarters, ... single rules: at most about two checks per rule.
    assert len(checks) <= 2 * len(start)


def test_one_rule_among_fourteen_takes_few_checks() -> None:
    culprit = RULES[13]
    checks = []

    def conflicts_still(trial: list[Key]) -> list[Key] | None:
        checks.append(trial)
        return trial if culprit in trial else None

    assert shrink(RULES[:14], conflicts_still) == [culprit]
    assert len(checks) <= 6  # deleting one rule at a time: 13
