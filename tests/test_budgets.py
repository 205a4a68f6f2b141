"""Model budgets: every task's default model fits its flash/arena budget and every board; an oversized one fails."""

import pytest

from conftest import run_cli
from fixtures import build_default
from tinyml import tflm
from tinyml.boards import BOARDS, arena_with_margin
from tinyml.budgets import budgets, check_budget
from tinyml.errors import BudgetError
from tinyml.run import write_run
from tinyml.tasks import get_task

pytestmark = pytest.mark.slow
TRAINED_TASKS = ("micro_speech", "magic_wand", "person_detection")


@pytest.fixture(scope="module")
def default_models(default_build):
    out = {name: default_build(name) for name in TRAINED_TASKS}
    for name in TRAINED_TASKS:
        task = get_task(name)
        if task.synthetic_config() != task.default_config():
            out[f"{name} synthetic"] = default_build(name, synthetic=True)
    return out


def test_every_task_has_a_budget():
    assert set(budgets()) >= {"micro_speech", "magic_wand", "person_detection"}
    assert budgets()["micro_speech"]["flash_bytes"] <= 20480 and budgets()["magic_wand"]["flash_bytes"] <= 20480
    assert budgets()["person_detection"]["flash_bytes"] <= 256000


@pytest.mark.parametrize("name", TRAINED_TASKS)
def test_default_model_within_budget_and_boards(default_models, name):
    for key in (name, f"{name} synthetic"):
        if key in default_models:
            _within_budget_and_boards(name, default_models[key])


def _within_budget_and_boards(name, result):
    flash = len(result.tflite)
    arena = tflm.measure_arena(result.tflite)
    budget = budgets()[name]
    assert flash <= budget["flash_bytes"], f"{name}: {flash} B flash > {budget['flash_bytes']} B"
    assert arena <= budget["arena_bytes"], f"{name}: {arena} B arena > {budget['arena_bytes']} B"
    check_budget(name, flash, arena)
    for board in BOARDS.values():
        assert flash <= board.model_flash_budget and arena_with_margin(arena) <= board.model_ram_budget, board.key


def test_oversized_model_fails_the_budget(tmp_path):
    task, result = build_default("magic_wand", filters=[64, 64, 64], dense_units=256, init_from="")
    flash = len(result.tflite)
    assert flash > budgets()["magic_wand"]["flash_bytes"]
    with pytest.raises(BudgetError) as exc:
        check_budget("magic_wand", flash, tflm.measure_arena(result.tflite))
    message = str(exc.value)
    assert message.startswith("magic_wand model needs") and "over its 20,480 B budget" in message
    assert "tinyml/budgets.json" in message
    # export refuses it too, with the same one line and the budget exit code
    write_run(tmp_path / "run", result.run, result.model)
    proc = run_cli("export", str(tmp_path / "run"), "--board", "nano33ble_sense", "--out", str(tmp_path / "out"),
                   "--allow-weak")
    assert proc.returncode == 3 and "over its 20,480 B budget" in proc.stderr and proc.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()
