"""Visual Wake Words from COCO: label each image by whether a large enough object of a class is in it.

The rule is the VWW paper's (Chowdhery et al. 2019): an image is positive when at least one
bounding box of the class covers more than `threshold` (0.5 %) of the image area; every other
image, including ones with only tiny people, is negative. Annotations are read with pycocotools.
`vww_labels` is pure; `build_vww` writes the DIR/<class>/ folder layout the image loader reads.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tinyml.errors import TinyMLError
from tinyml.names import safe_label

SMALL_OBJECT_AREA = 0.005


def folder_names(category: str) -> tuple[str, str]:
    """(negative, positive) folder names for a COCO category, e.g. ('non_person', 'person')."""
    positive = safe_label(category.strip().replace(" ", "_"), "COCO category")
    return f"non_{positive}", positive


def read_coco(annotations: str | Path):
    """pycocotools COCO index of an instances_*.json file, or a one-line error."""
    import contextlib
    import io
    import json

    from pycocotools.coco import COCO

    try:
        from tinyml.files import MB, read_input

        data = json.loads(read_input(annotations, "a COCO instances file", 4096 * MB))
        check_coco(data)
    except (OSError, ValueError) as exc:
        raise TinyMLError(f"{annotations}: not a COCO instances file ({exc}); pass annotations/instances_*.json") from None
    coco = COCO()
    coco.dataset = data
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress
        coco.createIndex()
    return coco


def _number(v) -> bool:
    import math

    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_coco(data) -> None:
    """The shape of the COCO fields VWW reads; ValueError naming the first thing that is off."""
    if not isinstance(data, dict):
        raise ValueError("the file is not a JSON object")
    need = {"images": {"id": _number, "file_name": lambda v: isinstance(v, str),
                       "width": lambda v: _number(v) and v > 0, "height": lambda v: _number(v) and v > 0},
            "annotations": {"image_id": _number, "category_id": _number,
                            "bbox": lambda v: isinstance(v, list) and len(v) == 4 and all(map(_number, v))},
            "categories": {"id": _number, "name": lambda v: isinstance(v, str)}}
    for key, fields in need.items():
        items = data.get(key)
        if not isinstance(items, list):
            raise ValueError(f"no '{key}' list")
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise ValueError(f"{key}[{i}] is not an object")
            for name, ok in fields.items():
                if name not in item or not ok(item[name]):
                    raise ValueError(f"{key}[{i}] has no valid '{name}'")


def vww_labels(coco, category: str = "person", threshold: float = SMALL_OBJECT_AREA) -> dict[str, bool]:
    """{image file name: has a `category` box larger than threshold × image area}."""
    cat_ids = coco.getCatIds(catNms=[category])
    if not cat_ids:
        names = sorted(c["name"] for c in coco.loadCats(coco.getCatIds()))
        raise TinyMLError(f"COCO category '{category}' is not in the annotations (has: {', '.join(names[:10])}...)")
    labels = {}
    for image in coco.loadImgs(coco.getImgIds()):
        area = float(image["width"]) * float(image["height"])
        boxes = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]], catIds=cat_ids, iscrowd=None))
        labels[image["file_name"]] = any(b["bbox"][2] * b["bbox"][3] > threshold * area for b in boxes)
    return labels


def build_vww(images_dir: str | Path, annotations: str | Path, out_dir: str | Path, category: str = "person",
              threshold: float = SMALL_OBJECT_AREA) -> dict[str, int]:
    """Fill out_dir/<category>/ and out_dir/non_<category>/ with the COCO images; returns counts.

    The folder is built beside out_dir and swapped in whole (with vww.json saying what it holds),
    so a failure half way leaves the previous folder or none: never a subset a later training run
    would silently learn from. Images are hard-linked when on the same file system, else copied."""
    import json
    import math

    from tinyml.files import staged_folder

    images_dir, out_dir = Path(images_dir), Path(out_dir)
    if not images_dir.is_dir():
        raise TinyMLError(f"{images_dir}: no such folder; pass the COCO image folder (e.g. train2017/)")
    if not (math.isfinite(threshold) and 0 <= threshold < 1):
        raise TinyMLError(f"--threshold {threshold}: give a fraction of the image area from 0 to 1")
    negative, positive = folder_names(category)
    labels = vww_labels(read_coco(annotations), category, threshold)
    counts = {negative: 0, positive: 0, "missing": 0}
    with staged_folder(out_dir, "vww.json") as stage:
        for sub in (negative, positive):
            (stage / sub).mkdir()
        for name, has in sorted(labels.items()):
            src = images_dir / Path(name).name  # never follow directories named in the JSON
            if not src.is_file():
                counts["missing"] += 1
                continue
            dst = stage / (positive if has else negative) / src.name
            try:
                os.link(src, dst)
            except OSError:
                shutil.copyfile(src, dst)
            counts[positive if has else negative] += 1
        if counts[negative] + counts[positive] == 0:
            raise TinyMLError(f"none of the {len(labels)} annotated images are in {images_dir}")
        (stage / "vww.json").write_text(json.dumps({"category": category, "threshold": threshold,
                                                   "annotations": str(annotations), "counts": counts,
                                                   "files": [negative, positive]},
                                                  indent=2, sort_keys=True) + "\n")
    return counts
