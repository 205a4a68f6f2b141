import pytest

from tinyml.boards import BOARDS, arena_with_margin, get_board
from tinyml.errors import TinyMLError


def test_required_profiles_exist():
    assert {"nano33ble_sense", "nano33ble_sense_rev2", "nano_esp32", "portenta_h7"} <= set(BOARDS)


def test_rev1_and_rev2_differ_in_imu_library():
    assert get_board("nano33ble_sense").sensors["imu"].library == "Arduino_LSM9DS1"
    assert get_board("nano33ble_sense_rev2").sensors["imu"].library == "Arduino_BMI270_BMM150"
    for key in ("nano33ble_sense", "nano33ble_sense_rev2"):
        b = get_board(key)
        # 1 MB of flash minus the 64 KB bootloader is what a sketch gets
        assert b.ram_bytes == 256 * 1024 and b.flash_bytes == 960 * 1024 and "nRF52840" in b.mcu


def test_every_profile_is_complete():
    for b in BOARDS.values():
        assert b.fqbn.count(":") == 2 and b.tflm_library == "Chirale_TensorFlowLite"
        assert 0 < b.model_ram_budget < b.ram_bytes and 0 < b.model_flash_budget <= b.flash_bytes
        assert b.libraries()[0] == "Chirale_TensorFlowLite"


def test_margin_is_stated_and_aligned():
    assert arena_with_margin(10000) == (10000 + 2000 + 1024 + 15) // 16 * 16
    assert arena_with_margin(85264) % 16 == 0


def test_unknown_board():
    with pytest.raises(TinyMLError, match="choose one of"):
        get_board("uno")


# --- every board × every task: a sketch that builds, or one line up front ----------------------

import shutil  # noqa: E402

from conftest import SHARED_DATA, compile_sketch  # noqa: E402

TASKS_WITH_SKETCHES = ("generic", "magic_wand", "micro_speech", "person_detection")
VENDORED = SHARED_DATA.parent / "vendor" / "Chirale_TensorFlowLite-2.0.0.tar.gz"


@pytest.fixture(scope="module")
def task_sources(default_build):
    """Each task's default architecture, trained just enough to convert, as export sources."""
    from fixtures import tiny_model

    from tinyml.export.pipeline import ExportSource

    out = {"generic": ExportSource(tiny_model(), "generic", (), None, "generic")}
    for name in TASKS_WITH_SKETCHES[1:]:
        out[name] = ExportSource.from_run(default_build(name).run, name)
    return out


@pytest.fixture(scope="module")
def arm_library():
    """The board's TFLM library built for the Cortex-M4, or None (then Cortex-M boards get the host check)."""
    if shutil.which("arm-none-eabi-g++") is None or not VENDORED.exists():
        return None
    from tinyml.device.toolchain import build_library

    return build_library(VENDORED)


@pytest.mark.slow
@pytest.mark.parametrize("board_key", sorted(BOARDS))
def test_every_board_and_task_exports_a_sketch_that_builds_or_is_refused_up_front(task_sources, arm_library,
                                                                                   board_key, tmp_path):
    from tinyml.export.pipeline import build_export
    from tinyml.files import write_files

    board = get_board(board_key)
    built = []
    for task, source in task_sources.items():
        try:
            result = build_export(source, board, task, None, verify_count=2)
        except TinyMLError as exc:
            message = str(exc)
            assert "\n" not in message and f"has no " in message and "generic sketch" in message, message
            assert task != "generic"
            continue
        write_files(tmp_path / task, result.files)
        if board.arm_cortex_m and arm_library is not None:
            from tinyml.device.toolchain import build_sketch

            image = build_sketch(tmp_path / task, arm_library, tmp_path / f"{task}_obj",
                                 defines=board.defines, harness=False)
            assert not image.warnings, image.warnings[:3]
        proc = compile_sketch(tmp_path / task, f"{task}.ino", board.defines)
        assert proc.returncode == 0, proc.stderr[-2000:]
        built.append(task)
    assert "generic" in built
    expected = {"nano33ble_sense": 4, "nano33ble_sense_rev2": 4, "nano_esp32": 1, "portenta_h7": 2}
    assert len(built) == expected[board_key], built
