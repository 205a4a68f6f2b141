"""Train/validation splits that keep recorders apart (a person's recordings never on both sides)."""

from __future__ import annotations

import numpy as np


def split_indices(samples, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Hold out whole recorders when there are 3 or more, else a stratified random sample."""
    rng = np.random.default_rng(seed)
    persons = sorted({s.person for s in samples})
    idx = np.arange(len(samples))
    if len(persons) >= 3:
        from collections import Counter

        sizes = Counter(s.person for s in samples)
        order = rng.permutation(persons)
        held, count = set(), 0
        for p in order:
            if count >= val_fraction * len(samples) and held:
                break
            held.add(p)
            count += sizes[p]
        val = np.array([i for i in idx if samples[i].person in held])
    else:
        val = []
        for label in sorted({s.label for s in samples}):
            members = rng.permutation([i for i in idx if samples[i].label == label])
            val += list(members[: max(1, int(round(val_fraction * len(members))))])
        val = np.array(sorted(val))
    train = np.setdiff1d(idx, val)
    return train, val


def kfold_indices(samples, k: int, seed: int, by_person: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """k folds stratified by label (no fold is empty when there are k or more samples); with by_person,
    speakers are dealt into k folds (k = 0: one fold per person)."""
    idx = np.arange(len(samples))
    if by_person and k > 0:
        rng = np.random.default_rng(seed)
        people = list(rng.permutation(sorted({s.person for s in samples})))
        fold_of_person = {p: i % k for i, p in enumerate(people)}
        fold_of = np.array([fold_of_person[s.person] for s in samples])
        return [(idx[fold_of != f], idx[fold_of == f]) for f in range(k)]
    if by_person:
        return [(idx[[s.person != p for s in samples]], idx[[s.person == p for s in samples]])
                for p in sorted({s.person for s in samples})]
    rng = np.random.default_rng(seed)
    fold_of = np.zeros(len(samples), dtype=int)
    dealt = 0  # deal on across classes, so that classes smaller than k still fill every fold
    for label in sorted({s.label for s in samples}):
        members = rng.permutation([i for i in idx if samples[i].label == label])
        fold_of[members] = (dealt + np.arange(len(members))) % k
        dealt += len(members)
    return [(idx[fold_of != f], idx[fold_of == f]) for f in range(k)]


def speaker_stratified_split(samples, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Hold out whole speakers until every class has about val_fraction of its examples held out,
    never taking a class's last training speaker: no class is left without training or validation data
    when it has examples from two or more speakers."""
    from collections import Counter

    rng = np.random.default_rng(seed)
    by_person: dict[str, Counter] = {}
    for s in samples:
        by_person.setdefault(s.person, Counter())[s.label] += 1
    total = Counter(s.label for s in samples)
    need = {label: max(1, int(round(val_fraction * n))) for label, n in total.items()}
    got: Counter = Counter()
    held = set()
    for person in rng.permutation(sorted(by_person)):
        counts = by_person[person]
        helps = any(got[label] < need[label] for label in counts)
        keeps_training = all(total[label] - got[label] - n >= 1 for label, n in counts.items())
        if helps and keeps_training:
            held.add(person)
            got.update(counts)
        if all(got[label] >= need[label] for label in total):
            break
    idx = np.arange(len(samples))
    val = np.array([i for i in idx if samples[i].person in held], dtype=int)
    return np.setdiff1d(idx, val), val
