"""Error types the CLI turns into one-line messages.

Every error a user can cause (bad file, wrong option, model that does not fit) is a
TinyMLError whose message says what was wrong and what to do. Anything else is a bug
and keeps its traceback.
"""


class TinyMLError(Exception):
    """A problem with the user's input; the message is shown as-is, exit code 2."""

    exit_code = 2


class ModelError(TinyMLError):
    """The .tflite file is unreadable, not full int8, or uses ops TFLM lacks."""


class BudgetError(TinyMLError):
    """The model does not fit a flash/RAM budget or a board."""

    exit_code = 3


class VerifyError(TinyMLError):
    """TFLM and TFLite disagree on a model's output."""

    exit_code = 4


class WeakModelError(TinyMLError):
    """The trained model is no better than guessing, misses a class, or its split starves a class."""

    exit_code = 5
