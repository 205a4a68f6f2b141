"""Exported sketches on an emulated Cortex-M4 (QEMU mps2-an386) built against the board's real
TFLM library, Chirale_TensorFlowLite 2.0.0 from ../shared/vendor: every Invoke() output and
every printed result line must equal what the host computes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, SHARED_DATA, run_cli
from tinyml.boards import get_board
from tinyml.errors import ModelError, TinyMLError
from tinyml.export.pipeline import ExportSource, build_export
from tinyml.files import write_files
from tinyml.tflm_library import CHIRALE_2_0_0, ops_in_resolver_header

VENDORED = Path(os.environ.get("TINYML_TFLM_LIBRARY", SHARED_DATA.parent / "vendor" / "Chirale_TensorFlowLite-2.0.0.tar.gz"))
TOOLS = ("arm-none-eabi-g++", "arm-none-eabi-size", "qemu-system-arm")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def board_lib():
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install gcc-arm-none-eabi "
                    "libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm)")
    if not VENDORED.exists():
        pytest.skip(f"the board's TFLM library is not at {VENDORED}")
    from tinyml.device.toolchain import build_library

    return build_library(VENDORED)


def _export(tmp_path, model: bytes, task: str, name: str, labels=(), config=None) -> Path:
    result = build_export(ExportSource(model, task, tuple(labels), config, name), get_board("nano33ble_sense"),
                          name, list(labels) or None)
    write_files(tmp_path / name, result.files)
    return tmp_path / name


def _emulate(board_lib, sketch: Path, work: Path, recording=None):
    from tinyml.on_board import emulate_sketch

    return emulate_sketch(sketch, board_lib, work, None if recording is None else str(recording))


def test_op_table_is_the_board_librarys_own(tmp_path):
    """The table export checks against is what the vendored micro_mutable_op_resolver.h declares."""
    if not VENDORED.exists():
        pytest.skip(f"the board's TFLM library is not at {VENDORED}")
    import tarfile

    with tarfile.open(VENDORED) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("micro/micro_mutable_op_resolver.h"))
        header = tar.extractfile(member).read().decode()
    assert ops_in_resolver_header(header) == CHIRALE_2_0_0.add_methods
    assert "AddBatchMatMul" not in CHIRALE_2_0_0.add_methods


def test_published_micro_speech_model_generic_sketch(board_lib, reference_models, tmp_path):
    model = (reference_models / "micro_speech_quantized.tflite").read_bytes()
    sketch = _export(tmp_path, model, "generic", "kws_generic")
    report = _emulate(board_lib, sketch, tmp_path / "work")
    c = report.comparison
    assert c.compared == 30 and c.identical == 30
    assert 2_000_000 < c.median_instructions < 3_000_000  # ≈ 2.39 M measured with a TCG plugin
    assert report.image.text > len(model) and report.image.bss > 10_000


def test_published_micro_speech_through_the_whole_sketch(board_lib, reference_models, shared_data, tmp_path):
    """PDM audio → front end → model → recognizer → "Heard yes": the printed lines equal Python's."""
    from tinyml.tasks.micro_speech.data import read_wav, write_wav

    clips = shared_data / "tflm_reference" / "micro_speech"
    order = ["silence", "yes", "silence", "no", "silence", "noise", "silence"]
    audio = np.concatenate([read_wav(clips / f"{n}_1000ms.wav", 16000) for n in order])
    write_wav(tmp_path / "stream.wav", audio, 16000)
    model = (reference_models / "micro_speech_quantized.tflite").read_bytes()
    sketch = _export(tmp_path, model, "micro_speech", "kws", ("silence", "unknown", "yes", "no"))
    report = _emulate(board_lib, sketch, tmp_path / "work", tmp_path / "stream.wav")
    assert report.comparison.compared >= 30 and report.comparison.identical == report.comparison.compared
    assert report.printed == report.expected
    assert [line.split(" (")[0] for line in report.printed] == ["Heard yes", "Heard no"]
    # between two inferences the board runs the front end on five 20 ms slices (≈ 486 k measured)
    assert 200_000 < report.comparison.median_between < 1_000_000
    assert len(report.comparison.between) == report.comparison.compared - 1


def test_published_person_model_through_the_camera_sketch(board_lib, reference_models, shared_data, tmp_path):
    from PIL import Image

    images = tmp_path / "frames"
    images.mkdir()
    photos = shared_data / "tflm_reference" / "person_detection"
    # person.bmp stores the int8 input bytes; XOR 0x80 recovers the photograph (see README)
    person = np.asarray(Image.open(photos / "person.bmp").convert("L"), dtype=np.uint8) ^ 0x80
    Image.fromarray(person).save(images / "a_person.png")
    shutil.copy(photos / "no_person.bmp", images / "b_no_person.bmp")
    rng = np.random.default_rng(0)
    for i in range(28):  # and 28 crops of both photographs, so at least 30 inferences are compared
        src = person if i % 2 else np.asarray(Image.open(photos / "no_person.bmp").convert("L"))
        y, x = rng.integers(0, 30, 2)
        Image.fromarray(src[y:y + 66, x:x + 66]).save(images / f"c{i:02d}.png")
    model = (reference_models / "person_detect.tflite").read_bytes()
    sketch = _export(tmp_path, model, "person_detection", "person", ("no_person", "person"))
    report = _emulate(board_lib, sketch, tmp_path / "work", images)
    c = report.comparison
    assert c.compared == 30 and c.identical == 30
    assert report.printed == report.expected
    assert report.printed[0].startswith("person score") and " detected" in report.printed[0]


@pytest.fixture(scope="module")
def demo_runs(quick_demo):
    return quick_demo / "runs"


@pytest.mark.parametrize("task", ["micro_speech", "magic_wand", "person_detection"])
def test_trained_demo_sketches_are_bit_exact_on_the_board(board_lib, demo_runs, task, tmp_path):
    """Every demo sketch (per-tensor dense weights) equals the host on the board's library."""
    proc = run_cli("export", str(demo_runs / task), "--board", "nano33ble_sense", "--out", str(tmp_path),
                   "--emulate", "--library", str(VENDORED), timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "outputs byte-identical to the host's TFLM" in proc.stdout
    manifest = json.loads((tmp_path / task / "manifest.json").read_text())
    assert manifest["config"] is not None
    if task != "person_detection":  # a live stream: one inference must fit between two
        assert manifest["emulated"]["keeps_up"] is True and "cannot keep up" not in proc.stdout
    from tinyml.on_board import emulate_sketch

    report = emulate_sketch(tmp_path / task, board_lib, tmp_path / "work")
    assert report.comparison.compared >= 30 or task == "person_detection"
    assert report.comparison.identical == report.comparison.compared > 0
    assert report.printed == report.expected
    if task == "magic_wand":  # the board's gravity-frame features are Python's, byte for byte
        assert report.inputs_match is True


def test_a_model_slower_than_its_stream_is_reported():
    from tinyml.device.emulate import Comparison
    from tinyml.on_board import EmulationReport

    def report(instructions, every):
        return EmulationReport("lib", None, "case", Comparison(3, 3, 0, (instructions,) * 3), [], None, every)

    clock = get_board("nano33ble_sense").clock_hz
    assert report(2_215_960, 100).keeps_up(clock) is True  # the demo tiny_conv: 43 ms
    assert report(12_548_800, 100).keeps_up(clock) is False  # a 32-wide ds_cnn: 245 ms
    assert report(12_548_800, None).keeps_up(clock) is None
    # the sketch's own work between inferences counts too: 43 ms of model + 60 ms of features is too slow
    slow_features = EmulationReport("lib", None, "case", Comparison(3, 3, 0, (2_215_960,) * 3, (3_072_000,) * 2),
                                    [], None, 100)
    assert slow_features.keeps_up(clock) is False


def test_real_wand_recording_through_the_imu_sketch(board_lib, demo_runs, shared_data, tmp_path):
    wing = sorted((shared_data / "magic_wand").rglob("*wing*"))
    wing = [p for p in wing if p.is_file()]
    if not wing:
        pytest.skip("no wing recording in ../shared/data/magic_wand")
    proc = run_cli("export", str(demo_runs / "magic_wand"), "--board", "nano33ble_sense", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    report = _emulate(board_lib, tmp_path / "magic_wand", tmp_path / "work", wing[0])
    assert report.comparison.compared >= 30
    assert report.comparison.identical == report.comparison.compared
    assert report.printed == report.expected
    assert report.inputs_matching == report.expected_inputs == report.comparison.compared
    # the reads of four readings and the gravity-frame features of one window (≈ 56 k measured)
    assert 10_000 < report.comparison.median_between < 200_000


def test_board_inputs_are_checked_against_python_position_by_position():
    from tinyml.device.emulate import Invocation, inputs_matching

    def inv(data: bytes):
        return Invocation(inputs=(data,), outputs=(b"",), instructions=0, work_before=0, status=0)

    board = [inv(b"\x01\x02"), inv(b"\x03\x04"), inv(b"\x05\x06")]
    assert inputs_matching((b"\x01\x02", b"\x03\x04", b"\x05\x06"), board) == 3
    assert inputs_matching((b"\x01\x02", b"\x03\x05", b"\x05\x06"), board) == 2  # one byte off
    assert inputs_matching((b"\x03\x04", b"\x05\x06"), board) == 0  # shifted by one inference
    assert inputs_matching(None, board) is None
    from tinyml.device.emulate import Comparison
    from tinyml.on_board import EmulationReport

    def report(matching):
        return EmulationReport("lib", None, "case", Comparison(3, 3, 0, (100,) * 3), [], None,
                               expected_inputs=3, inputs_matching=matching)

    assert report(3).ok and not report(2).ok  # equal outputs are not enough when the features differ


def _dense_model(per_channel: bool) -> bytes:
    """A small trained-looking dense model, converted with or without per-channel FC weights."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(1)
    inp = keras.Input((16,), batch_size=1)
    x = keras.layers.Dense(12, activation="relu")(inp)
    out = keras.layers.Dense(4, activation="softmax")(x)
    model = keras.Model(inp, out)
    # widely different column norms make the per-channel scales differ
    w, b = model.layers[1].get_weights()
    model.layers[1].set_weights([w * np.linspace(0.05, 3.0, 12)[None, :], b])
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    rng = np.random.default_rng(0)
    conv.representative_dataset = lambda: ([rng.normal(size=(1, 16)).astype(np.float32)] for _ in range(100))
    conv._experimental_disable_per_channel_quantization_for_dense_layers = not per_channel
    return bytes(conv.convert())


def test_per_channel_dense_weights_differ_on_the_board_and_export_refuses_them(board_lib, tmp_path):
    """The board's FULLY_CONNECTED uses one scale per layer: the emulator shows the difference,
    export refuses such a model, and tinyml's own conversion (per-tensor) is exact."""
    from tinyml.modelinfo import read_model

    bad = _dense_model(per_channel=True)
    assert "FULLY_CONNECTED" in read_model(bad).per_channel_ops
    with pytest.raises(ModelError, match=r"per-channel .*FULLY_CONNECTED.*Chirale_TensorFlowLite 2\.0\.0"):
        _export(tmp_path, bad, "generic", "bad")
    # bypass export's checks to show what the board would compute
    report = _emulate(board_lib, _sketch_unchecked(tmp_path, bad, "bad"), tmp_path / "work_bad")
    assert report.comparison.identical < report.comparison.compared

    good = _dense_model(per_channel=False)
    assert read_model(good).per_channel_ops == ()
    get_board("nano33ble_sense").tflm.check(read_model(good))  # export's library check passes
    report = _emulate(board_lib, _sketch_unchecked(tmp_path, good, "good"), tmp_path / "work_good")
    assert report.comparison.identical == report.comparison.compared == 30


def _sketch_unchecked(tmp_path, model: bytes, name: str) -> Path:
    """The generic sketch for a model without export's checks (LiteRT's dense kernel rounds differently
    from TFLM on a few inputs, which is beside the point here: the board is the judge)."""
    from tinyml.export.pipeline import Model
    from tinyml.export.sketch import sketch_files
    from tinyml.tasks import get_task

    m = Model.read(model)
    files = sketch_files(m, get_board("nano33ble_sense"), name, [f"c{i}" for i in range(m.info.outputs[0].elements)],
                         "generic", get_task("generic").firmware(None, m.info))
    write_files(tmp_path / name, files)
    return tmp_path / name


def test_op_the_board_library_lacks_is_refused_with_one_line():
    from dataclasses import replace

    from tinyml.modelinfo import OpInfo, read_model
    from fixtures import tiny_model

    info = read_model(tiny_model())
    info = replace(info, ops=info.ops + (OpInfo("BATCH_MATMUL", 1),))
    with pytest.raises(ModelError) as err:
        CHIRALE_2_0_0.check(info)
    assert "BATCH_MATMUL" in str(err.value) and "Chirale_TensorFlowLite 2.0.0" in str(err.value)
    assert "\n" not in str(err.value)


SKETCHES = sorted(p.parent for p in (REPO / "arduino").glob("*/*.ino"))


@pytest.mark.parametrize("sketch", SKETCHES, ids=[p.name for p in SKETCHES])
def test_capture_firmware_builds_for_cortex_m4(board_lib, sketch, tmp_path):
    from tinyml.device.toolchain import build_sketch

    for defines in ((), ("TINYML_REV2",)) if "imu" in sketch.name else ((),):
        image = build_sketch(sketch, board_lib, tmp_path / "_".join(defines or ("rev1",)),
                             extra_includes=(REPO / "arduino" / "libraries" / "TinymlCapture" / "src",),
                             defines=defines)
        assert image.text > 0


def test_emulate_cli_one_line_errors(tmp_path):
    proc = run_cli("emulate", str(tmp_path), "--library", str(tmp_path / "nope"))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_an_op_the_board_computes_differently_is_refused_with_one_line():
    from dataclasses import replace

    from tinyml.modelinfo import OpInfo, read_model
    from fixtures import tiny_model

    info = read_model(tiny_model())
    info = replace(info, ops=info.ops + (OpInfo("MEAN", 2),))
    with pytest.raises(ModelError) as err:
        CHIRALE_2_0_0.check(info)
    assert "MEAN, which Chirale_TensorFlowLite 2.0.0 computes differently" in str(err.value)
    assert "AveragePooling2D" in str(err.value) and "\n" not in str(err.value)


def test_a_recording_shorter_than_one_window_is_one_clear_line(board_lib, tmp_path):
    from fixtures import tiny_model

    sketch = _export(tmp_path, tiny_model(), "generic", "tiny")
    empty = tmp_path / "lines.txt"
    empty.write_text("")
    with pytest.raises(TinyMLError, match="ran the model 0 times.*shorter than one model input"):
        _emulate(board_lib, sketch, tmp_path / "work", empty)
