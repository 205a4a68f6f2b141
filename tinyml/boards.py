"""Board profiles: one table that export, inspect and the budget tests all read.

The model budgets are what a board leaves for the model's C array (flash) and the tensor
arena (RAM) after the Arduino core, the TFLM runtime and a typical sketch. For the Nano 33 BLE Sense the
runtime and sketch parts are measured from linked Cortex-M4 images (see below); the Arduino
core's share, and the other boards, are estimates. `tinyml inspect --board` reports against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from tinyml.errors import TinyMLError
KB = 1024

from tinyml.tflm_library import CHIRALE_2_0_0, TflmLibrary


@dataclass(frozen=True)
class Sensor:
    """An on-board (or kit) sensor and the Arduino library that drives it."""

    part: str
    """Chip name, e.g. 'LSM9DS1'."""
    library: str
    """Arduino Library Manager name; empty when the core provides it."""
    header: str
    """Header the sketch includes."""
    object: str = ""
    """Global object the library exposes (e.g. 'IMU'), or empty."""


@dataclass(frozen=True)
class Board:
    """A target board: memory budgets, sensors, toolchain id and TFLM library."""

    key: str
    """Name used on the command line (`--board KEY`)."""
    title: str
    """Human name."""
    mcu: str
    """Microcontroller."""
    fqbn: str
    """arduino-cli fully qualified board name."""
    ram_bytes: int
    """Total SRAM of the MCU."""
    flash_bytes: int
    """Flash available to the sketch's application partition."""
    model_ram_budget: int
    """RAM left for the tensor arena after core, TFLM runtime and sketch (estimate)."""
    model_flash_budget: int
    """Flash left for the model array after core, TFLM runtime and sketch (estimate)."""
    core: str
    """Arduino core to install with `arduino-cli core install`."""
    clock_hz: float = 64e6
    """CPU clock, for latency estimates from instruction counts."""
    sensors: dict[str, Sensor] = field(default_factory=dict)
    """Role ('imu', 'mic', 'camera') to sensor."""
    tflm: TflmLibrary = CHIRALE_2_0_0
    """The TFLM Arduino library the board builds (Library Manager release, with its ops and kernel limits)."""
    defines: tuple[str, ...] = ("ARDUINO_ARCH_MBED",)
    """Preprocessor names the board's Arduino core defines (build checks use them)."""
    arm_cortex_m: bool = True
    """An Arm Cortex-M MCU: build checks compile its sketches with the Arm cross compiler."""

    @property
    def tflm_library(self) -> str:
        return self.tflm.name

    @property
    def tflm_header(self) -> str:
        return self.tflm.header

    def libraries(self, roles: tuple[str, ...] = ()) -> list[str]:
        """Libraries to install for a sketch using the given sensor roles."""
        libs = [self.tflm_library]
        for role in roles:
            sensor = self.sensors.get(role)
            if sensor and sensor.library and sensor.library not in libs:
                libs.append(sensor.library)
        return libs

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "title": self.title,
            "mcu": self.mcu,
            "fqbn": self.fqbn,
            "ram_bytes": self.ram_bytes,
            "flash_bytes": self.flash_bytes,
            "model_ram_budget": self.model_ram_budget,
            "model_flash_budget": self.model_flash_budget,
            "tflm_library": self.tflm_library,
            "tflm_library_version": self.tflm.version,
        }


_PDM = Sensor("MP34DT05 PDM microphone", "", "PDM.h", "PDM")
_OV7675 = Sensor("OV7675 camera (Tiny Machine Learning Kit)", "Arduino_OV767X", "Arduino_OV767X.h", "Camera")

# Nano 33 BLE Sense budgets. Measured on the emulated Cortex-M4 (benchmarks/bench_device.py:
# Chirale_TensorFlowLite 2.0.0, the core's -Os/softfp flags, newlib in place of mbed OS): the TFLM
# runtime plus our largest sketch, without its model array, links to 91 KB of flash
# (micro_speech: text 105,556 B minus the 14,352 B model), and our sketches' own RAM besides the
# arena is at most 37 KB (micro_speech's 1 s audio ring). Not measurable here: mbed OS with USB
# CDC and the sensor drivers, estimated at 192 KB flash / 64 KB RAM. The application partition
# is 960 KB (1 MB minus the 64 KB bootloader).
_NANO33_FLASH = 960 * KB
_NANO33_MODEL_FLASH = _NANO33_FLASH - 96 * KB - 192 * KB  # 672 KB
_NANO33_MODEL_RAM = 256 * KB - 40 * KB - 64 * KB  # 152 KB

_NANO33_REV1 = Board(
    key="nano33ble_sense",
    title="Arduino Nano 33 BLE Sense (Rev1)",
    mcu="nRF52840 (Cortex-M4F, 64 MHz)",
    fqbn="arduino:mbed_nano:nano33ble",
    ram_bytes=256 * KB,
    flash_bytes=_NANO33_FLASH,
    model_ram_budget=_NANO33_MODEL_RAM,
    model_flash_budget=_NANO33_MODEL_FLASH,
    core="arduino:mbed_nano",
    defines=("ARDUINO_ARCH_MBED", "ARDUINO_ARDUINO_NANO33BLE"),
    sensors={
        "imu": Sensor("LSM9DS1", "Arduino_LSM9DS1", "Arduino_LSM9DS1.h", "IMU"),
        "mic": _PDM,
        "camera": _OV7675,
    },
)

# Rev2 is the same board with a different IMU (and microphone part): only the sensors change.
_NANO33_REV2 = replace(
    _NANO33_REV1,
    key="nano33ble_sense_rev2",
    title="Arduino Nano 33 BLE Sense Rev2",
    sensors={
        "imu": Sensor("BMI270 + BMM150", "Arduino_BMI270_BMM150", "Arduino_BMI270_BMM150.h", "IMU"),
        "mic": Sensor("MP34DT06JTR PDM microphone", "", "PDM.h", "PDM"),
        "camera": _OV7675,
    },
)

BOARDS: dict[str, Board] = {
    b.key: b
    for b in (
        _NANO33_REV1,
        _NANO33_REV2,
        Board(
            key="nano_esp32",
            title="Arduino Nano ESP32",
            mcu="ESP32-S3 (dual Xtensa LX7, 240 MHz)",
            fqbn="arduino:esp32:nano_nora",
            ram_bytes=512 * KB,
            flash_bytes=3072 * KB,
            model_ram_budget=256 * KB,
            model_flash_budget=2048 * KB,
            core="arduino:esp32",
            clock_hz=240e6,
            sensors={},
            defines=("ARDUINO_ARCH_ESP32", "ARDUINO_NANO_ESP32", "ESP32"),
            arm_cortex_m=False,
        ),
        Board(
            key="portenta_h7",
            title="Arduino Portenta H7 (M7 core)",
            mcu="STM32H747 (Cortex-M7, 480 MHz)",
            fqbn="arduino:mbed_portenta:envie_m7",
            ram_bytes=1024 * KB,
            flash_bytes=1024 * KB,
            model_ram_budget=384 * KB,
            model_flash_budget=768 * KB,
            core="arduino:mbed_portenta",
            clock_hz=480e6,
            defines=("ARDUINO_ARCH_MBED", "ARDUINO_PORTENTA_H7_M7", "CORE_CM7"),
            sensors={
                "mic": Sensor("Vision Shield PDM microphones", "", "PDM.h", "PDM"),
            },
        ),
    )
}


def get_board(key: str) -> Board:
    try:
        return BOARDS[key]
    except KeyError:
        raise TinyMLError(f"unknown board '{key}'; choose one of: {', '.join(BOARDS)}") from None


# Why a margin: the host measures the arena with TFLM's 64-bit reference kernels. On the
# board, optimized kernels (CMSIS-NN on Cortex-M, ESP-NN on ESP32) may ask for scratch
# buffers the reference kernels do not, while 32-bit pointers make bookkeeping smaller.
ARENA_MARGIN_FRACTION = 0.20
ARENA_MARGIN_BYTES = 1024
ARENA_MARGIN_RULE = "measured + 20% + 1024 B, rounded up to 16 B (covers optimized-kernel scratch on 32-bit targets)"


def arena_with_margin(measured: int) -> int:
    total = measured + int(measured * ARENA_MARGIN_FRACTION + 0.999) + ARENA_MARGIN_BYTES
    return (total + 15) // 16 * 16
