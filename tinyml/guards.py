"""Truth guards: a model that learned nothing, or was trained on a split that starves a class,
is named as such instead of shipping quietly.

Pure functions over counts and a scored report; train and evaluate attach their warnings to
report.json and REPORT.md, and `tinyml train`/`demo` exit non-zero on them unless --allow-weak.
"""

from __future__ import annotations

from collections import Counter

# "Clearly above" the majority-class rate: the model must close at least this share of the gap
# between always answering the most common class and a perfect score.
MIN_GAIN_OVER_MAJORITY = 0.10


def split_warnings(labels, train_labels, val_labels) -> list[str]:
    """Classes without training or validation examples."""
    train, val = Counter(train_labels), Counter(val_labels)
    out = []
    for label in labels:
        if not train[label]:
            out.append(f"class '{label}' has no training examples: the model cannot learn it "
                       "(add recordings of it, or check the split and the folder names)")
        if not val[label]:
            out.append(f"class '{label}' has no validation examples: its accuracy is unmeasured "
                       "(add recordings from more people, or lower val_fraction's strictness)")
    return out


def score_warnings(labels, confusion, accuracy: float) -> list[str]:
    """An int8 score that is no better than always answering the commonest class, or a class never found."""
    out = []
    support = [int(sum(row)) for row in confusion]
    total = sum(support)
    if total == 0:
        return ["no validation examples: the model's accuracy is unmeasured"]
    if sum(1 for n in support if n) < 2:  # one class present (e.g. negatives only): recall says it all
        return [f"class '{labels[i]}' has zero recall ({n} validation examples, none recognised)"
                for i, n in enumerate(support) if n and confusion[i][i] == 0]
    majority = max(support) / total
    needed = majority + MIN_GAIN_OVER_MAJORITY * (1.0 - majority)
    if accuracy < needed:
        top = labels[support.index(max(support))]
        out.append(f"int8 accuracy {accuracy:.3f} is not clearly above {majority:.3f}, what always answering "
                   f"'{top}' scores: the model learned (almost) nothing; likely too little or mislabelled data, "
                   "or validation people unlike the training people")
    for i, label in enumerate(labels):
        if support[i] and confusion[i][i] == 0:
            out.append(f"class '{label}' has zero recall ({support[i]} validation examples, none recognised): "
                       "likely too few or unlike training examples of it")
    return out
