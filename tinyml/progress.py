"""Progress bars for long loops (feature computation, image decoding), sized to the terminal.

tqdm draws only on a terminal (disable=None), so logs and tests stay clean.
"""

from __future__ import annotations

import shutil


def progress(iterable, desc: str, total: int | None = None):
    from tqdm import tqdm

    width = min(shutil.get_terminal_size((80, 24)).columns, 80)
    return tqdm(iterable, desc=desc, total=total, ncols=width, disable=None, leave=False, unit=" items")
