"""The command recognizer: a stream of int8 scores into heard words.

Written once in Python (used by stream evaluation) and rendered as C for the sketch
(templates/command_recognizer.c.j2); both use the same integer rule, so they decide identically.
"""

from __future__ import annotations

import numpy as np

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
        avg = self.average(scores, now_ms)
        return -1 if avg is None else self.decide(avg, now_ms)

    def average(self, scores: np.ndarray, now_ms: int) -> np.ndarray | None:
        """Add one inference's scores; the average over the window, or None while fewer than
        `minimum_count` results are held. It does not depend on the threshold or suppression, so
        calibration averages once per window and replays `decide` per threshold."""
        if len(self.history) == RECOGNIZER_MAX_RESULTS:
            self.history.pop(0)
        self.history.append((int(now_ms), np.asarray(scores, dtype=np.int32).reshape(-1) + 128))
        self.history = [(t, s) for t, s in self.history if now_ms - t <= self.window]
        if len(self.history) < self.minimum:
            return None
        total = np.sum([s for _, s in self.history], axis=0)
        return total // len(self.history)

    def decide(self, avg: np.ndarray, now_ms: int) -> int:
        """The class index of a new command given this step's average, or -1."""
        top = int(np.argmax(avg))
        since = (1 << 31) - 1 if self.previous_top == 0 else now_ms - self.previous_time
        if avg[top] > self.threshold and (top != self.previous_top or since > self.suppression):
            self.previous_top = top
            self.previous_time = int(now_ms)
            return top
        return -1
