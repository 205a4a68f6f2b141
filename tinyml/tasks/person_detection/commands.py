"""person_detection's own subcommand: `tinyml make-vww`, Visual Wake Words folders from COCO."""

from __future__ import annotations


def add_make_vww_arguments(s) -> None:
    s.add_argument("--images", required=True, help="COCO image folder, e.g. val2017/")
    s.add_argument("--annotations", required=True, help="COCO instances_*.json")
    s.add_argument("--out", required=True, help="dataset folder to fill with <class>/ sub-folders")
    s.add_argument("--category", default="person", help="COCO category to detect (default person)")
    s.add_argument("--threshold", type=float, default=0.005,
                   help="smallest box area, as a fraction of the image, that counts (default 0.005)")


def make_vww(args) -> int:
    from tinyml.tasks.person_detection.vww import build_vww

    counts = build_vww(args.images, args.annotations, args.out, args.category, args.threshold)
    missing = counts.pop("missing")
    print(f"wrote {args.out}/: " + ", ".join(f"{n} {k}" for k, n in counts.items())
          + (f" ({missing} annotated images not found in {args.images})" if missing else ""))
    return 0
