"""Keep TensorFlow's start-up and runtime chatter off the user's terminal.

TensorFlow's C++ runtime writes absl/oneDNN lines (`I0000 …`, `E0000 … NodeDef mentions
attribute …`) straight to file descriptor 2, where TF_CPP_MIN_LOG_LEVEL does not reach all of
them. `filtered_stderr` routes fd 2 through a pipe and drops exactly those lines; everything
else, tinyml's own messages included, passes through in order. `--verbose` turns it off.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading

TF_NOISE = re.compile(
    rb"^(?:[IWEF]\d{4} [\d:.]+\s+\d+ \S+:\d+\]"  # absl C++ log lines
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|To enable the following instructions: .* rebuild TensorFlow"
    rb"|This TensorFlow binary is optimized"
    rb"|fully_quantize: \d+, inference_type"  # the converter's calibration summary
    rb")"
)


@contextlib.contextmanager
def filtered_stderr(enabled: bool = True):
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def pump():
        with os.fdopen(read_end, "rb") as src:
            for line in iter(src.readline, b""):
                if not TF_NOISE.match(line):
                    os.write(saved, line)

    thread = threading.Thread(target=pump, name="tinyml-stderr-filter", daemon=True)
    thread.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # closes the pipe's last write end: the pump sees EOF and drains
        thread.join(timeout=5)
        os.close(saved)
