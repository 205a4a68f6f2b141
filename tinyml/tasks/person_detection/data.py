"""Image folders: DIR/<class>/**/*.{png,jpg,jpeg,bmp,webp,gif,tif} → grayscale samples at the model's resolution.

Images are read with Pillow, converted to 8-bit grayscale (ITU-R 601 luma, as the camera's
grayscale mode gives), and reduced with the same crop-and-average as the board
(`tinyml.tasks.person_detection.features.crop_scale`). Files named `<person>_nohash_<n>.png` (what `tinyml
capture` writes) keep their recorder for splits; other files are their own group.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyml.errors import TinyMLError
from tinyml.tasks.person_detection.features import crop_scale
from tinyml.names import recorder_of, safe_label

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff")


@dataclass(frozen=True)
class ImageSample:
    """One labelled image, already at the model's input size."""

    data: np.ndarray
    """(H, W) uint8 grayscale at the model's resolution."""
    label: str
    """Class label."""
    person: str
    """Recorder or source group, so near-duplicates stay on one side of a split."""
    source: str
    """File path, for error messages."""


def read_gray(path: str | Path) -> np.ndarray:
    """An image file → (H, W) uint8 grayscale. One-line TinyMLError for anything unreadable."""
    from PIL import Image, UnidentifiedImageError

    from tinyml.files import MB, require_regular

    require_regular(path, "an image file", 64 * MB)
    from PIL import ImageOps

    try:
        with Image.open(path) as im:
            im.load()  # a GIF's or TIFF's first frame
            im = ImageOps.exif_transpose(im)  # phone photos: stored sideways, marked upright in EXIF
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                arr = np.asarray(im, dtype=np.float64)
                arr = arr * (255.0 / max(1.0, arr.max()))
                return arr.round().astype(np.uint8)
            if im.mode in ("RGBA", "LA", "P", "PA"):
                im = im.convert("RGBA").convert("RGB")
            return np.asarray(im.convert("L"), dtype=np.uint8)
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TinyMLError(f"{path}: not a readable image ({reason}); delete or replace the file") from None


def photo_groups(root: Path) -> dict[str, str]:
    """{file relative to root: the original photo it was cut from}, from a MANIFEST.csv with `file`
    and `original_path` columns (as the person_photos set has), so a photo and a crop of it, or two
    crops of one photo, never land on both sides of a split; empty without one."""
    import csv
    import io

    from tinyml.files import MB, read_input_text

    path = Path(root) / "MANIFEST.csv"
    if not path.is_file():
        return {}
    rows = csv.DictReader(io.StringIO(read_input_text(path, "a MANIFEST.csv", 64 * MB)))
    if not rows.fieldnames or not {"file", "original_path"} <= set(rows.fieldnames):
        return {}
    # Caltech-101's Faces and Faces_easy are two crops of the same photos
    return {row["file"]: f"{row.get('source_repo', '')}:{row['original_path'].replace('Faces_easy/', 'Faces/')}"
            for row in rows if row.get("file") and row.get("original_path")}


def image_files(folder: Path, unused: list[str]) -> list[Path]:
    """Every image under a folder, sub-folders included; anything else (dot files too) goes to `unused`
    as 'folder/name'."""
    from tinyml.files import is_hidden

    files = []
    for p in sorted(folder.rglob("*")):
        if p.is_dir():
            continue
        if p.suffix.lower() in IMAGE_SUFFIXES and not any(is_hidden(part) for part in p.relative_to(folder).parts):
            files.append(p)
        else:
            unused.append(str(p.relative_to(folder.parent)))
    return files


def load_image_dir(root: str | Path, labels: tuple[str, ...], size: tuple[int, int]) -> list[ImageSample]:
    """All images of the wanted classes under root/<label>/ (sub-folders included) at `size` (H, W).
    What is not used (other folders and files, dot files) is named in one line."""
    from tinyml.files import note_unused

    root = Path(root)
    if not root.is_dir():
        raise TinyMLError(f"{root}: no such folder; pass a folder with one sub-folder per class "
                          f"({', '.join(labels)})")
    samples: list[ImageSample] = []
    groups = photo_groups(root)
    unused = [p.name + ("/" if p.is_dir() else "") for p in sorted(root.iterdir())
              if p.name not in labels and not (groups and p.name == "MANIFEST.csv")]
    for label in labels:
        safe_label(label, "class label")
        folder = root / label
        files = image_files(folder, unused) if folder.is_dir() else []
        if not files:
            present = sorted(p.name for p in root.iterdir() if p.is_dir())
            raise TinyMLError(f"class '{label}' has no images in {folder} (found class folders: "
                              f"{', '.join(present) or 'none'}); every class needs images (.png, .jpg, .bmp, .webp, .gif, .tif)")
        from tinyml.progress import progress

        for path in progress(files, f"images {label}"):
            gray = read_gray(path)
            group = groups.get(path.relative_to(root).as_posix()) or recorder_of(str(path))
            samples.append(ImageSample(crop_scale(gray, *size), label, group, str(path)))
    note_unused(unused, str(root), f"images of the classes {', '.join(labels)} (set labels to use other folders)")
    return samples


def augment_image(img: np.ndarray, rng: np.random.Generator, max_rotation_deg: float = 10.0,
                  min_crop: float = 0.75, blur: float = 0.0, noise: float = 0.0) -> np.ndarray:
    """One random training copy: crop (zoom in), flip, small rotation, brightness and contrast; with
    `blur` a Gaussian blur of radius up to that many pixels and with `noise` Gaussian pixel noise of
    standard deviation up to that many gray levels, as a small camera's soft lens and sensor give.
    Off (0), neither draws from `rng`, so copies stay what they were without them."""
    from PIL import Image, ImageFilter

    h, w = img.shape
    zoom = rng.uniform(min_crop, 1.0)
    angle = np.deg2rad(rng.uniform(-max_rotation_deg, max_rotation_deg))
    # centre of the crop, kept inside the image
    cx = w / 2 + rng.uniform(-1, 1) * w * (1 - zoom) / 2
    cy = h / 2 + rng.uniform(-1, 1) * h * (1 - zoom) / 2
    flip = -1.0 if rng.random() < 0.5 else 1.0
    cos, sin = np.cos(angle) * zoom, np.sin(angle) * zoom
    # output pixel (u, v) → source pixel; PIL's affine maps output to input coordinates
    a, b = cos * flip, -sin
    d, e = sin * flip, cos
    c = cx - a * w / 2 - b * h / 2
    f = cy - d * w / 2 - e * h / 2
    out = Image.fromarray(img).transform((w, h), Image.Transform.AFFINE, (a, b, c, d, e, f),
                                         resample=Image.Resampling.BILINEAR, fillcolor=int(np.median(img)))
    if blur > 0:
        out = out.filter(ImageFilter.GaussianBlur(rng.uniform(0, blur)))
    arr = np.asarray(out, dtype=np.float32)
    if noise > 0:
        arr = arr + rng.normal(0, rng.uniform(0, noise), arr.shape)
    contrast = rng.uniform(0.7, 1.3)
    brightness = rng.uniform(-30, 30)
    arr = (arr - arr.mean()) * contrast + arr.mean() + brightness
    return np.clip(np.rint(arr), 0, 255).astype(np.uint8)
