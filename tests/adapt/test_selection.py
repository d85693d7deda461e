"""Label-free selection helpers."""

import pytest


def test_committee_agreement_worked_example():
    from transferkit.adapt.selection import committee_agreement

    preds = {"none": [0, 0, 1, 1], "a": [0, 1, 1, 1], "b": [1, 1, 1, 0], "c": [0, 1, 0, 1]}
    # votes per sample: 3-1 -> 0; 1-3 -> 1; 1-3 -> 1; 1-3 -> 1
    s = committee_agreement(preds)
    assert s == {"none": 0.75, "a": 1.0, "b": 0.5, "c": 0.75}
    # a 2-2 tie goes to the reference's label
    tie = committee_agreement({"none": [1], "a": [1], "b": [0], "c": [0]})
    assert tie == {"none": 1.0, "a": 1.0, "b": 0.0, "c": 0.0}
    assert committee_agreement({"none": ["x", "y"], "a": ["y", "y"]}) == {"none": 1.0, "a": 0.5}
    with pytest.raises(ValueError, match="reference"):
        committee_agreement({"a": [0]})
