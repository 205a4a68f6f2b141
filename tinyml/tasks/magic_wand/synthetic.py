"""Synthetic magic-wand recordings: the embedded default data for `tinyml demo`.

The wand tip traces W (wing), O (ring) and L (slope) strokes on a roughly vertical plane in
front of the user, with minimum-jerk timing between corners. Most gestures are swung from the
wrist or elbow, so the board turns with the wand and gravity's share on its axes swings; the rest
move the board without turning it. Size, speed, reach, tilt of the plane, the way the board sits
on the wand and handedness (mirrored strokes) vary per gesture. The accelerometer reads specific
force (motion minus gravity, so 1 g on the up axis at rest) in the board's frame, plus bias and
noise. Rings go clockwise. Negatives are counter-clockwise circles, idle hands, random smooth
motion, shaking and other strokes (lines, V, Z).
Deterministic for a seed.
"""

from __future__ import annotations

import numpy as np

from tinyml.tasks.magic_wand.data import MotionSample

G = 9.80665
SHAPES = {
    "wing": [(0.0, 1.0), (0.25, 0.0), (0.5, 0.7), (0.75, 0.0), (1.0, 1.0)],
    "slope": [(0.0, 1.0), (0.0, 0.0), (0.8, 0.0)],
}
GESTURES = ("wing", "ring", "slope")  # what the generator can draw
OTHER_STROKES = [
    [(0.0, 0.5), (1.0, 0.5)],                       # horizontal line
    [(0.5, 1.0), (0.5, 0.0)],                       # vertical line
    [(0.0, 1.0), (0.5, 0.0), (1.0, 1.0)],           # V
    [(0.0, 1.0), (1.0, 1.0), (0.0, 0.0), (1.0, 0.0)],  # Z
    [(0.0, 0.0), (1.0, 1.0)],                       # diagonal
]


# Gestures are swung from the wrist or elbow (the board turns, so gravity's share on each axis
# swings, as in the TF wand recordings) or, for the rest, moved without turning (as on the Nuvoton
# board); sizes and speeds span both. Measured against the real sets in bench_magic_wand.
SWING_SHARE = 0.7
DRAW_SECONDS = (1.2, 2.6)  # time to draw one letter
ARM = (0.2, 0.7)  # pivot (wrist, elbow) to board, metres
REACH = (0.8, 1.2)  # pivot to the drawing plane, metres
SIZE = (0.6, 1.4)  # letter height on that plane, metres: the wand swings about ±14° to ±41°
# Share of the default dataset's negatives that are counter-clockwise circles. The TF wand data
# makes the drawing direction part of "ring": two of its six negative recordings are such circles.
# Not for the negatives added to a user's recordings, whose rings may go either way.
CCW_NEGATIVES = 0.3


def _min_jerk(tau: np.ndarray) -> np.ndarray:
    return 10 * tau**3 - 15 * tau**4 + 6 * tau**5


def _polyline(points, n: int) -> np.ndarray:
    """(n, 2) positions along a polyline, stopping at each corner (min-jerk per segment)."""
    pts = np.asarray(points, dtype=np.float64)
    lengths = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    # time per segment grows with the square root of its length (faster on long strokes)
    durations = np.sqrt(lengths + 1e-6)
    edges = np.r_[0, np.cumsum(durations)] / durations.sum()
    t = np.linspace(0, 1, n)
    seg = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, len(lengths) - 1)
    tau = (t - edges[seg]) / (edges[seg + 1] - edges[seg])
    s = _min_jerk(np.clip(tau, 0, 1))[:, None]
    return pts[seg] + s * (pts[seg + 1] - pts[seg])


def _circle(n: int, clockwise: bool) -> np.ndarray:
    t = np.linspace(0, 1, n)
    speed = _min_jerk(np.clip(np.minimum(t, 1 - t) / 0.15, 0, 1)) + 1e-9  # steady, with smooth start and stop
    angle = 2 * np.pi * np.cumsum(speed) / speed.sum()
    sign = -1.0 if clockwise else 1.0
    start = np.pi / 2
    return 0.5 + 0.5 * np.stack([np.cos(start + sign * angle), np.sin(start + sign * angle)], axis=1)


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    return rz @ ry @ rx


def _specific_force(pos_world: np.ndarray, rate_hz: float) -> np.ndarray:
    """What an accelerometer at these world positions (n, 3), metres, feels: acceleration plus 1 g up."""
    dt = 1.0 / rate_hz
    return np.gradient(np.gradient(pos_world, dt, axis=0), dt, axis=0) + np.array([0.0, 0.0, G])


def _sensor_errors(readings: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A cheap IMU's per-recording bias and white noise added to readings in g, as float32."""
    readings = readings + rng.uniform(-0.03, 0.03, 3)
    readings += rng.normal(0, rng.uniform(0.008, 0.03), readings.shape)
    return readings.astype(np.float32)


def _to_accelerometer(pos_world: np.ndarray, rate_hz: float, rng: np.random.Generator) -> np.ndarray:
    """World positions (n, 3) in metres → board-frame accelerometer readings in g."""
    force = _specific_force(pos_world, rate_hz)
    # how the board is held: near flat, pointing forward, with a slow wobble during the move
    base = rng.normal(0, 0.35, 3)
    wobble = rng.normal(0, 0.08, 3)
    t = np.linspace(0, 1, len(pos_world))
    readings = np.empty_like(force)
    for i in range(len(force)):
        r = _rotation(*(base + wobble * np.sin(np.pi * t[i])))
        readings[i] = r.T @ force[i]
    return _sensor_errors(readings / G, rng)


def _swing_readings(plane_uv: np.ndarray, size: float, rate_hz: float, rng: np.random.Generator) -> np.ndarray:
    """A wand swung from the wrist or elbow so its tip traces plane_uv on a vertical plane ahead:
    the board turns with the wand (so gravity's share on each axis swings) and moves along an arc.
    → board-frame accelerometer readings in g."""
    aspect = rng.uniform(0.75, 1.3)
    u = (plane_uv[:, 0] - 0.5) * size * aspect
    v = (plane_uv[:, 1] - 0.5) * size
    reach = rng.uniform(*REACH)  # pivot to drawing plane, metres
    aim = np.tan(rng.uniform(-0.5, 0.5)) * reach  # pointing a little up or down
    target = np.stack([u, np.full_like(u, reach), v + aim], axis=1)
    target = target @ _rotation(rng.uniform(-0.35, 0.35), 0.0, rng.uniform(-0.3, 0.3)).T
    forward = target / np.linalg.norm(target, axis=1, keepdims=True)
    arm = rng.uniform(*ARM)  # pivot to board, metres
    force = _specific_force(arm * forward, rate_hz)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right, axis=1, keepdims=True)
    up = np.cross(right, forward)
    frames = np.stack([right, forward, up], axis=2)  # columns: board x, y, z in the world
    mount = _rotation(*rng.normal(0, 0.35, 3))  # how the board sits on the wand
    return _sensor_errors(np.einsum("ji,nj->ni", mount, np.einsum("nji,nj->ni", frames, force)) / G, rng)


def _stroke(plane_uv: np.ndarray, size: float, rng: np.random.Generator) -> np.ndarray:
    """Plane coordinates (n, 2) in [0, 1] → world metres, plane tilted and turned."""
    aspect = rng.uniform(0.75, 1.3)
    u = (plane_uv[:, 0] - 0.5) * size * aspect
    v = (plane_uv[:, 1] - 0.5) * size
    world = np.stack([u, np.zeros_like(u), v], axis=1)
    return world @ _rotation(rng.uniform(-0.35, 0.35), 0.0, rng.uniform(-0.3, 0.3)).T


def _with_rest(path: np.ndarray, rate_hz: float, rng: np.random.Generator) -> np.ndarray:
    before = np.repeat(path[:1], int(rng.uniform(0.1, 0.4) * rate_hz), axis=0)
    after = np.repeat(path[-1:], int(rng.uniform(0.1, 0.4) * rate_hz), axis=0)
    return np.concatenate([before, path, after])


def _drawn(uv: np.ndarray, rate_hz: float, rng: np.random.Generator, swing_share: float) -> np.ndarray:
    """A letter on the drawing plane, swung from the wrist (share swing_share) or carried → readings."""
    if rng.random() < swing_share:
        return _swing_readings(_with_rest(uv, rate_hz, rng), rng.uniform(*SIZE), rate_hz, rng)
    world = _stroke(uv, rng.uniform(0.15, 0.45), rng)
    return _to_accelerometer(_with_rest(world, rate_hz, rng), rate_hz, rng)


def _gesture(label: str, rate_hz: float, rng: np.random.Generator, swing_share: float = SWING_SHARE) -> np.ndarray:
    n = int(rng.uniform(*DRAW_SECONDS) * rate_hz)
    mirrored = rng.random() < 0.3  # left-handed users mirror the strokes
    if label == "ring":  # always clockwise: the TF data counts counter-clockwise circles as negatives
        uv = _circle(n, clockwise=True)
    else:
        uv = _polyline(SHAPES[label], n)
        if mirrored:
            uv[:, 0] = 1 - uv[:, 0]
    return _drawn(uv, rate_hz, rng, swing_share)


def _negative(rate_hz: float, rng: np.random.Generator, ccw_share: float = 0.0) -> np.ndarray:
    if ccw_share and rng.random() < ccw_share:  # a ring drawn the other way round
        n = int(rng.uniform(*DRAW_SECONDS) * rate_hz)
        return _drawn(_circle(n, clockwise=False), rate_hz, rng, SWING_SHARE)
    kind = rng.integers(4)
    n = int(rng.uniform(1.0, 2.2) * rate_hz)
    t = np.arange(n) / rate_hz
    if kind == 0:  # idle: holding still, slow drift
        world = np.cumsum(rng.normal(0, 0.0005, (n, 3)), axis=0)
    elif kind == 1:  # random smooth motion
        world = np.zeros((n, 3))
        for _ in range(3):
            f = rng.uniform(0.3, 2.5)
            world += rng.normal(0, 0.06, 3) * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))[:, None]
    elif kind == 2:  # shaking
        f = rng.uniform(3, 7)
        world = rng.normal(0, 0.02, 3) * np.sin(2 * np.pi * f * t)[:, None]
    else:  # another stroke
        stroke = _polyline(OTHER_STROKES[rng.integers(len(OTHER_STROKES))], n)
        world = _with_rest(_stroke(stroke, rng.uniform(0.15, 0.45), rng), rate_hz, rng)
    return _to_accelerometer(world, rate_hz, rng)


def synthetic_wand(n_per_class: int, seed: int = 0, rate_hz: float = 100.0,
                   labels: tuple[str, ...] = ("wing", "ring", "slope", "negative"),
                   negative_label: str = "negative", swing_share: float = SWING_SHARE) -> list[MotionSample]:
    """n_per_class gestures per label, as MotionSamples in g at rate_hz; person = 'synthetic-<k>'.
    swing_share: the share of gestures swung (the board turns) rather than carried."""
    unknown = [label for label in labels if label != negative_label and label not in GESTURES]
    if unknown:
        from tinyml.errors import TinyMLError

        raise TinyMLError(f"the synthetic generator draws wing, ring, slope and negative, not {', '.join(unknown)}; "
                          "pass --data with recordings of your own gestures")
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(n_per_class):
        for label in labels:
            data = (_negative(rate_hz, rng, CCW_NEGATIVES) if label == negative_label
                    else _gesture(label, rate_hz, rng, swing_share))
            samples.append(MotionSample(data, rate_hz, label, f"synthetic-{i % 5}", f"synthetic:{seed}:{label}:{i}"))
    return samples


def synthetic_negatives(n: int, seed: int = 0, rate_hz: float = 100.0, label: str = "negative",
                        ccw_share: float = 0.0) -> list[MotionSample]:
    """n negative recordings (idle, random motion, shaking, other strokes) in g at rate_hz; a share
    ccw_share of them are counter-clockwise circles instead."""
    rng = np.random.default_rng(seed)
    return [MotionSample(_negative(rate_hz, rng, ccw_share), rate_hz, label, "synthetic-negatives",
                         f"synthetic-negatives:{seed}:{i}") for i in range(n)]
