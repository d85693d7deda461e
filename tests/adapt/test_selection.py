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


def test_committee_agreement_leave_one_out_worked_example():
    from transferkit.adapt.selection import committee_agreement

    # 'c' against the others (none, a, b): sample 0: 0,0,1 -> 0 (c: 0, agrees); 1: 0,1,1 -> 1
    # (agrees); 2: 1,1,1 -> 1 (c: 0, no); 3: 1,1,0 -> 1 (agrees): 3/4
    preds = {"none": [0, 0, 1, 1], "a": [0, 1, 1, 1], "b": [1, 1, 1, 0], "c": [0, 1, 0, 1]}
    s = committee_agreement(preds, leave_one_out=True)
    assert s == {"none": 0.75, "a": 1.0, "b": 0.5, "c": 0.75}
    # two 2-2 ties: the whole-committee vote gives both to source-only, which looks perfect;
    # against the others' vote every candidate disagrees on both samples
    even = {"none": [1, 0], "a": [1, 1], "b": [0, 0], "c": [0, 1]}
    assert committee_agreement(even) == {"none": 1.0, "a": 0.5, "b": 0.5, "c": 0.0}
    assert committee_agreement(even, leave_one_out=True) == {"none": 0.0, "a": 0.0, "b": 0.0,
                                                              "c": 0.0}
    # a tie among the others splits the credit: the others of 'none' say 1 and 0
    tie = committee_agreement({"none": [1], "a": [1], "b": [0]}, leave_one_out=True)
    assert tie == {"none": 0.5, "a": 0.5, "b": 0.0}
    with pytest.raises(ValueError, match="reference"):
        committee_agreement({"a": [0]}, leave_one_out=True)
