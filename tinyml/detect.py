"""Post-processing of a stream of int8 scores into detections.

Written once in Python (used by evaluation) and rendered as C for the sketch from the same
constants; both work on int8 scores and integer milliseconds so they decide identically.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def threshold_q(threshold: float, scale: float, zero_point: int) -> int:
    """Smallest int8 score q with scale * (q - zero_point) >= threshold."""
    q = math.ceil(threshold / scale + zero_point - 1e-9)
    return max(-128, min(127, q))


@dataclass(frozen=True, kw_only=True)
class GestureRule:
    """When a gesture counts as detected."""

    threshold: float = 0.8
    """Minimum score (0..1) of the winning class."""
    min_consecutive: int = 2
    """Consecutive inferences that must agree on the same class."""
    suppression_ms: int = 1000
    """After a detection, no other detection for this long."""


class GestureDetector:
    """Streaming detector: feed int8 scores and a timestamp, get a class index or -1."""

    def __init__(self, rule: GestureRule, negative_index: int, threshold_int8: int):
        self.rule = rule
        self.negative_index = negative_index
        self.threshold_int8 = threshold_int8
        self.last = -1
        self.count = 0
        self.suppress_until = None

    def update(self, scores: np.ndarray, now_ms: int) -> int:
        scores = np.asarray(scores).reshape(-1)
        if self.suppress_until is not None and now_ms - self.suppress_until < 0:
            self.last, self.count = -1, 0
            return -1
        best = int(np.argmax(scores))  # first maximum, as the C loop
        if best == self.negative_index or int(scores[best]) < self.threshold_int8:
            self.last, self.count = -1, 0
            return -1
        self.count = self.count + 1 if best == self.last else 1
        self.last = best
        if self.count >= self.rule.min_consecutive:
            self.suppress_until = now_ms + self.rule.suppression_ms
            self.last, self.count = -1, 0
            return best
        return -1


def run_detector(detector: GestureDetector, scores: np.ndarray, times_ms: np.ndarray) -> list[tuple[int, int]]:
    """(time_ms, class) for every detection in a score stream."""
    out = []
    for s, t in zip(scores, times_ms):
        hit = detector.update(s, int(t))
        if hit >= 0:
            out.append((int(t), hit))
    return out


RECOGNIZER_MAX_RESULTS = 64  # history capacity, the same in the generated C


class CommandRecognizer:
    """TFLM's RecognizeCommands in integer form: average recent scores, threshold, suppress repeats.

    Scores are int8; the average is over (score + 128) in 0..255 with truncating division,
    as in the generated command_recognizer.c. Returns the class index of a new command, or -1.
    """

    def __init__(self, classes: int, average_window_ms: int, detection_threshold: int, suppression_ms: int,
                 minimum_count: int):
        self.classes = classes
        self.window = average_window_ms
        self.threshold = detection_threshold
        self.suppression = suppression_ms
        self.minimum = minimum_count
        self.history: list[tuple[int, np.ndarray]] = []
        self.previous_top = 0  # class 0 is silence: nothing heard yet
        self.previous_time = 0

    def update(self, scores: np.ndarray, now_ms: int) -> int:
        if len(self.history) == RECOGNIZER_MAX_RESULTS:
            self.history.pop(0)
        self.history.append((int(now_ms), np.asarray(scores, dtype=np.int32).reshape(-1) + 128))
        self.history = [(t, s) for t, s in self.history if now_ms - t <= self.window]
        if len(self.history) < self.minimum:
            return -1
        total = np.sum([s for _, s in self.history], axis=0)
        avg = total // len(self.history)
        top = int(np.argmax(avg))
        since = (1 << 31) - 1 if self.previous_top == 0 else now_ms - self.previous_time
        if avg[top] > self.threshold and (top != self.previous_top or since > self.suppression):
            self.previous_top = top
            self.previous_time = int(now_ms)
            return top
        return -1
