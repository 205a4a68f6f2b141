"""A smoke-test image dataset drawn in code: stick-and-blob people vs other shapes and textures.

It exists so `tinyml demo` can train and export person_detection with no downloads. It is not
a stand-in for photographs: a model trained on it says nothing about real cameras. Every image
has a cluttered, textured background with the same kinds of distractor shapes, so the classes
differ only by the presence of a human figure (head, torso, arms and legs in a random pose,
size, position and shade, sometimes only the upper body). Deterministic for a seed.
"""

from __future__ import annotations

import numpy as np

from tinyml.tasks.person_detection.data import ImageSample
from tinyml.tasks.person_detection.features import crop_scale

_DRAW_SCALE = 2  # draw at twice the size, then average down: soft edges like a real lens


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size] / size
    base = rng.uniform(40, 215)
    grad = rng.uniform(-60, 60) * (xx * np.cos(rng.uniform(0, np.pi)) + yy * np.sin(rng.uniform(0, np.pi)))
    img = base + grad
    kind = rng.integers(0, 4)
    if kind == 1:  # stripes (floors, blinds)
        period = rng.uniform(4, 20)
        ang = rng.uniform(0, np.pi)
        img += rng.uniform(10, 40) * np.sign(np.sin((xx * np.cos(ang) + yy * np.sin(ang)) * size / period))
    elif kind == 2:  # blotchy texture (foliage, carpet)
        coarse = rng.normal(0, 1, (size // 8 + 1, size // 8 + 1))
        img += rng.uniform(10, 40) * np.kron(coarse, np.ones((8, 8)))[:size, :size]
    elif kind == 3:  # checkerboard tiles
        tile = int(rng.integers(6, 24))
        img += rng.uniform(8, 30) * (((np.arange(size)[:, None] // tile) + (np.arange(size)[None, :] // tile)) % 2 * 2 - 1)
    return img


def _shade(rng: np.random.Generator) -> int:
    return int(rng.choice([rng.uniform(0, 70), rng.uniform(180, 255), rng.uniform(0, 255)]))


def _clutter(draw, rng: np.random.Generator, size: int, count: int) -> None:
    """Shapes that appear in both classes: boxes, discs, poles, polygons."""
    for _ in range(count):
        kind = rng.integers(0, 4)
        x, y = rng.uniform(0, size, 2)
        w, h = rng.uniform(size * 0.05, size * 0.45, 2)
        fill = _shade(rng)
        if kind == 0:
            draw.rectangle([x - w / 2, y - h / 2, x + w / 2, y + h / 2], fill=fill)
        elif kind == 1:
            draw.ellipse([x - w / 2, y - w / 2, x + w / 2, y + w / 2], fill=fill)
        elif kind == 2:
            draw.line([x, y, x + rng.uniform(-1, 1) * size / 2, y + rng.uniform(-1, 1) * size / 2],
                      fill=fill, width=int(rng.integers(2, 10)))
        else:
            n = int(rng.integers(3, 7))
            ang = np.sort(rng.uniform(0, 2 * np.pi, n))
            r = rng.uniform(0.4, 1.0, n) * w / 2
            draw.polygon([(x + ri * np.cos(a), y + ri * np.sin(a)) for ri, a in zip(r, ang)], fill=fill)


def _limb(draw, start, angle: float, length: float, width: int, fill: int, bend: float):
    """Two segments (upper and lower limb) from `start`; returns the end point."""
    x0, y0 = start
    x1, y1 = x0 + np.sin(angle) * length / 2, y0 + np.cos(angle) * length / 2
    x2, y2 = x1 + np.sin(angle + bend) * length / 2, y1 + np.cos(angle + bend) * length / 2
    draw.line([x0, y0, x1, y1, x2, y2], fill=fill, width=width, joint="curve")
    return x2, y2


def _person(draw, rng: np.random.Generator, size: int) -> None:
    """A human figure: head, neck, torso, two arms and (unless cropped at the waist) two legs."""
    height = rng.uniform(0.45, 1.1) * size
    upper_only = rng.random() < 0.25
    if upper_only:
        height *= 1.6
    cx = rng.uniform(0.25, 0.75) * size
    top = rng.uniform(0.02, 0.35) * size if not upper_only else rng.uniform(0.05, 0.3) * size
    fill = _shade(rng)
    u = height / 8  # classic figure proportions: 8 heads tall
    head_r = u * rng.uniform(0.42, 0.55)
    lean = rng.uniform(-0.15, 0.15)
    head_c = (cx + lean * u, top + head_r)
    draw.ellipse([head_c[0] - head_r * 0.85, head_c[1] - head_r, head_c[0] + head_r * 0.85, head_c[1] + head_r],
                 fill=fill)
    neck = (cx, top + 2 * head_r + u * 0.25)
    hip = (cx - lean * u, neck[1] + u * 2.9)
    shoulder_w = u * rng.uniform(0.8, 1.1)
    hip_w = u * rng.uniform(0.6, 0.8)
    draw.line([head_c[0], head_c[1], neck[0], neck[1]], fill=fill, width=max(2, int(u * 0.35)))
    draw.polygon([(neck[0] - shoulder_w, neck[1]), (neck[0] + shoulder_w, neck[1]),
                  (hip[0] + hip_w, hip[1]), (hip[0] - hip_w, hip[1])], fill=fill)
    limb_w = max(2, int(u * rng.uniform(0.3, 0.45)))
    for side in (-1, 1):
        arm_angle = side * rng.uniform(0.1, 2.6)
        _limb(draw, (neck[0] + side * shoulder_w * 0.9, neck[1] + u * 0.2), arm_angle, u * 3.0, limb_w, fill,
              side * rng.uniform(-0.2, 1.2))
        if not upper_only:
            _limb(draw, (hip[0] + side * hip_w * 0.6, hip[1]), side * rng.uniform(0.0, 0.5), u * 3.8,
                  max(2, int(limb_w * 1.2)), fill, -side * rng.uniform(0.0, 0.6))


def synthetic_image(rng: np.random.Generator, has_person: bool, size: tuple[int, int]) -> np.ndarray:
    """One (H, W) uint8 image with or without a figure."""
    from PIL import Image, ImageDraw

    canvas = max(size) * _DRAW_SCALE
    img = Image.fromarray(np.clip(_background(rng, canvas), 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    _clutter(draw, rng, canvas, int(rng.integers(0, 5)))
    if has_person:
        _person(draw, rng, canvas)
        if rng.random() < 0.2:  # two people sometimes
            _person(draw, rng, canvas)
    _clutter(draw, rng, canvas, int(rng.integers(0, 2)))  # occluders in front
    arr = np.asarray(img, dtype=np.float32)
    arr += rng.normal(0, rng.uniform(1, 10), arr.shape)  # sensor noise
    arr = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
    return crop_scale(arr, *size)


def synthetic_people(n_per_class: int, seed: int, labels: tuple[str, ...] = ("non_person", "person"),
                     positive_label: str = "person", size: tuple[int, int] = (96, 96)) -> list[ImageSample]:
    """n_per_class images per label; only `positive_label` images contain figures."""
    samples = []
    for k, label in enumerate(labels):
        for i in range(n_per_class):
            rng = np.random.default_rng([seed, k, i])
            img = synthetic_image(rng, label == positive_label, size)
            samples.append(ImageSample(img, label, f"synthetic{i % 10}", f"synthetic:{label}:{i}"))
    return samples
