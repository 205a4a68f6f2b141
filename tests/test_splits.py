"""Splits that keep recorders apart, and folds that are never empty."""

from dataclasses import dataclass

from tinyml.splits import kfold_indices


@dataclass
class Rec:
    label: str
    person: str = "me"


def test_folds_are_stratified_and_none_is_empty_when_classes_are_smaller_than_k():
    samples = [Rec(label) for label in ("wing", "ring", "slope", "negative") for _ in range(2)]
    folds = kfold_indices(samples, 5, 0, by_person=False)
    assert len(folds) == 5 and all(len(val) for _, val in folds)
    held = sorted(i for _, val in folds for i in val)
    assert held == list(range(len(samples)))  # each recording held out exactly once
    for train, val in folds:
        assert not set(train) & set(val)
    one_each = [Rec(label) for label in ("wing", "ring", "slope", "negative")]
    assert [len(val) for _, val in kfold_indices(one_each, 4, 0, by_person=False)] == [1, 1, 1, 1]
