"""Layered maps behave as dicts do, order included, whatever changes and freezes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from creneau.scheduler._layered import Draft, Layered

keys = st.integers(0, 40)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("set"), keys, st.integers()),
        st.tuples(st.just("del"), keys, st.none()),
        st.tuples(st.just("freeze"), st.none(), st.none()),
    ),
    max_size=300,
)


@given(start=st.dictionaries(keys, st.integers(), max_size=40), steps=ops)
def test_a_layered_map_is_the_dict_it_stands_for(
    start: dict[int, int], steps: list[tuple[str, int, int]]
) -> None:
    reference = dict(start)
    frozen = [(Layered(dict(start)), dict(start))]
    draft = Draft(frozen[0][0])
    for op, key, value in steps:
        if op == "set":
            draft[key] = value
            reference[key] = value
        elif op == "del":
            if key in reference:
                del draft[key]
                del reference[key]
            else:
                try:
                    del draft[key]
                except KeyError:
                    pass
                else:
                    raise AssertionError("deleted a key it did not hold")
        else:
            layered = draft.freeze()
            frozen.append((layered, dict(reference)))
            draft = Draft(layered)
        assert len(draft) == len(reference)
    frozen.append((draft.freeze(), dict(reference)))
    # Every map frozen along the way still holds what it held then: drafts never
    # change what they were made from.
    for layered, then in frozen:
        assert list(layered.items()) == list(then.items())
        assert list(layered) == list(then)
        assert list(layered.values()) == list(then.values())
        assert len(layered) == len(then)
        assert layered == then
        for key in range(41):
            assert (key in layered) == (key in then)
            assert layered.get(key, "none") == then.get(key, "none")
