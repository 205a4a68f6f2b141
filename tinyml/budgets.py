"""Per-task model budgets from one file (tinyml/budgets.json), shared by export and the tests."""

from __future__ import annotations

import functools
import json
from importlib.resources import files

from tinyml.errors import BudgetError


@functools.lru_cache(maxsize=1)
def budgets() -> dict:
    data = json.loads(files("tinyml").joinpath("budgets.json").read_text())
    return {k: v for k, v in data.items() if not k.startswith("_")}


def check_budget(task: str, flash_bytes: int, arena_bytes: int) -> None:
    """Raise BudgetError when a task's model outgrows its flash or arena budget (no budget: no check)."""
    b = budgets().get(task)
    if b is None:
        return
    if flash_bytes > b["flash_bytes"]:
        raise BudgetError(f"{task} model needs {flash_bytes:,} B of flash, over its {b['flash_bytes']:,} B budget "
                          "(tinyml/budgets.json); make the model smaller or raise the budget on purpose")
    if arena_bytes > b["arena_bytes"]:
        raise BudgetError(f"{task} model needs a {arena_bytes:,} B tensor arena, over its {b['arena_bytes']:,} B "
                          "budget (tinyml/budgets.json); make the model smaller or raise the budget on purpose")
