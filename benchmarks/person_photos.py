"""The one split of ../shared/data/person_photos that the person base and the benchmark share.

Photos are grouped by the original photo they were cut from (MANIFEST.csv), so a person photo and a
person-free crop of it, or Caltech's Faces and Faces_easy copies of one photo, stay together. A hash
of the group puts 15 % of the groups in `test` (scored once per finished recipe), 15 % in `val`
(where settings were chosen) and the rest in `train`. The shipped base trains on `train` alone, and
only on sources whose licence allows sharing derived weights.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

# Sources whose licence allows sharing weights derived from them (person_photos/README.md):
# human-dataset and Caltech-101 are CC BY 4.0; Intel Image Classification states no licence.
SHAREABLE = ("human", "human-tracking", "human-crop", "caltech")


def kinds(root: Path) -> dict[str, str]:
    """{image path as loaded: kind} from MANIFEST.csv."""
    with open(Path(root) / "MANIFEST.csv", newline="") as fh:
        return {str(Path(root) / row["file"]): row["kind"] for row in csv.DictReader(fh)}


def part(sample) -> str:
    """'train', 'val' or 'test' for a sample whose `person` is its photo group."""
    h = int(hashlib.sha1(sample.person.encode()).hexdigest(), 16) % 100
    return "test" if h < 15 else "val" if h < 30 else "train"


def shareable(kind: str) -> bool:
    return kind.split("-")[0] in SHAREABLE or kind in SHAREABLE


def source(kind: str) -> str:
    """A kind's source for per-source figures: human, human-crop, caltech-faces, caltech, intel."""
    if kind.startswith("caltech-Faces"):
        return "caltech-faces"
    if kind.startswith(("intel-", "caltech-")):
        return kind.split("-")[0]
    return "human" if kind == "human-tracking" else kind
