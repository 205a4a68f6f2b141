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
