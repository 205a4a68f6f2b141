"""Report figures as PNG bytes: confusion matrix and training curves (matplotlib, no display)."""

from __future__ import annotations

import io

import numpy as np


def confusion_png(cm, labels, title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(cm)
    # at least 4.5 x 4 inches: two classes must still leave room for the title and tick labels
    side = max(4.0, 1.6 + 0.9 * len(labels))
    fig, ax = plt.subplots(figsize=(side + 0.5, side), dpi=100, layout="constrained")
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def curves_png(history: dict) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8, 3), dpi=100, layout="constrained")
    for key, ax in (("loss", axes[0]), ("accuracy", axes[1])):
        for prefix in ("", "val_"):
            values = history.get(prefix + key)
            if values:
                ax.plot(range(1, len(values) + 1), values, label=prefix + key)  # epochs counted from 1, as the bar
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()
