"""person_detection: image features and their C twin, loaders, VWW labels, --init-from, sketch."""

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from conftest import GOLDEN as SHARED_GOLDEN, build_c_harness, compile_sketch, run_cli
from tinyml.errors import TinyMLError
from tinyml.tasks.person_detection import features as fi
from tinyml.modelinfo import TensorInfo
from tinyml.tasks.person_detection.task import TASK, PersonDetectionConfig, layer_widths

HARNESS = r"""
#include <stdio.h>
#include <stdlib.h>
#include "image_preprocess.h"
int main(int argc, char** argv) {
  int w = atoi(argv[1]), h = atoi(argv[2]);
  uint8_t* frame = malloc((size_t)w * h);
  if (fread(frame, 1, (size_t)w * h, stdin) != (size_t)w * h) return 2;
  int8_t out[IMAGE_WIDTH * IMAGE_HEIGHT];
  image_to_input(frame, w, h, out);
  fwrite(out, 1, sizeof out, stdout);
  (void)argc;
  return 0;
}
"""


class FakeInfo:
    def __init__(self, scale, zp, size=96):
        self.inputs = (TensorInfo("in", (1, size, size, 1), "int8", scale, zp),)
        self.outputs = (TensorInfo("out", (1, 2), "int8", 1 / 256, -128),)


def naive_crop_scale(gray, out_h, out_w):
    """The algorithm written as plain loops, to check the vectorized version."""
    top, left, ch, cw = fi.crop_window(*gray.shape, out_h, out_w)
    out = np.zeros((out_h, out_w), np.uint8)
    for oy in range(out_h):
        y0 = top + oy * ch // out_h
        y1 = max(top + (oy + 1) * ch // out_h, y0 + 1)
        for ox in range(out_w):
            x0 = left + ox * cw // out_w
            x1 = max(left + (ox + 1) * cw // out_w, x0 + 1)
            box = gray[y0:y1, x0:x1].astype(np.int64)
            out[oy, ox] = (box.sum() + box.size // 2) // box.size
    return out


@pytest.mark.parametrize("shape", [(144, 176), (96, 96), (50, 70), (481, 640), (200, 90)])
def test_crop_scale_matches_the_plain_loops(shape):
    gray = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    assert np.array_equal(fi.crop_scale(gray, 96, 96), naive_crop_scale(gray, 96, 96))


def test_crop_scale_is_identity_at_model_size_and_keeps_flat_images_flat():
    gray = np.random.default_rng(0).integers(0, 256, (96, 96), dtype=np.uint8)
    assert np.array_equal(fi.crop_scale(gray, 96, 96), gray)
    assert np.all(fi.crop_scale(np.full((144, 176), 77, np.uint8), 96, 96) == 77)


def test_int8_table_of_the_published_quantization_is_pixel_minus_128():
    # person_detect.tflite: scale 2/255, zero point -1 — the TFLM examples feed pixel - 128
    table = fi.int8_table(0.007843137718737125, -1)
    assert np.array_equal(table.astype(int), np.arange(256) - 128)


def build_harness(tmp_path: Path, info) -> Path:
    return build_c_harness(tmp_path, TASK.firmware(None, info), HARNESS)


def real_photo() -> np.ndarray:
    from skimage import data

    return data.camera()  # a real 512x512 grayscale photograph shipped inside scikit-image


@pytest.mark.parametrize("scale,zp", [(0.007843137718737125, -1), (0.0081, 3), (0.0039, -128)])
def test_c_preprocessing_matches_python_on_a_real_photo(tmp_path, scale, zp):
    from PIL import Image

    exe = build_harness(tmp_path, FakeInfo(scale, zp))
    photo = real_photo()
    # the camera's QCIF frame, the full photo, and odd sizes (upscaling and a tall crop)
    frames = [np.asarray(Image.fromarray(photo).resize((176, 144), Image.Resampling.BILINEAR)), photo,
              photo[100:160, 200:270], photo[:300, :120]]
    for frame in frames:
        frame = np.ascontiguousarray(frame)
        c = subprocess.run([str(exe), str(frame.shape[1]), str(frame.shape[0])], input=frame.tobytes(),
                           capture_output=True, check=True).stdout
        py = fi.to_int8(fi.crop_scale(frame, 96, 96), scale, zp)
        assert np.frombuffer(c, np.int8).tobytes() == py.tobytes(), frame.shape


# --- data ---------------------------------------------------------------------------------

def write_images(root: Path, n: int = 3):
    from PIL import Image

    rng = np.random.default_rng(0)
    for label, mode, suffix in (("person", "RGB", ".jpg"), ("non_person", "L", ".bmp")):
        (root / label).mkdir(parents=True)
        for i in range(n):
            arr = rng.integers(0, 256, (120, 160, 3) if mode == "RGB" else (100, 100), dtype=np.uint8)
            Image.fromarray(arr, mode).save(root / label / f"alice_nohash_{i}{suffix}")
    Image.fromarray(rng.integers(0, 256, (64, 64, 4), dtype=np.uint8), "RGBA").save(root / "person" / "bob_nohash_0.png")


def test_image_folder_loads_every_format_at_model_size(tmp_path):
    write_images(tmp_path)
    samples = TASK.load(tmp_path, PersonDetectionConfig())
    assert sorted({s.label for s in samples}) == ["non_person", "person"]
    assert len(samples) == 7 and all(s.data.shape == (96, 96) and s.data.dtype == np.uint8 for s in samples)
    assert {s.person for s in samples} == {"alice", "bob"}


def test_bad_images_get_one_line_errors(tmp_path):
    write_images(tmp_path)
    (tmp_path / "person" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(TinyMLError, match="broken.png: not a readable image"):
        TASK.load(tmp_path, PersonDetectionConfig())
    (tmp_path / "person" / "broken.png").unlink()
    for p in (tmp_path / "non_person").iterdir():
        p.unlink()
    proc = run_cli("train", "person_detection", "--data", str(tmp_path), "--out", str(tmp_path / "run"))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "class 'non_person' has no images" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_synthetic_images_are_deterministic_and_labelled():
    a = TASK.synthetic(PersonDetectionConfig(), 6, seed=3)
    b = TASK.synthetic(PersonDetectionConfig(), 6, seed=3)
    c = TASK.synthetic(PersonDetectionConfig(), 6, seed=4)
    assert all(np.array_equal(x.data, y.data) for x, y in zip(a, b))
    assert not all(np.array_equal(x.data, y.data) for x, y in zip(a, c))
    assert [s.label for s in a] == ["non_person"] * 6 + ["person"] * 6


def test_augmentation_keeps_shape_and_changes_pixels():
    from tinyml.tasks.person_detection.data import augment_image

    img = TASK.synthetic(PersonDetectionConfig(), 1, 0)[1].data
    rng = np.random.default_rng(0)
    copies = [augment_image(img, rng) for _ in range(4)]
    assert all(c.shape == img.shape and c.dtype == np.uint8 for c in copies)
    assert all(np.mean(np.abs(c.astype(int) - img)) > 1 for c in copies)


def test_camera_blur_and_noise_are_off_by_default_and_soften_when_on():
    from tinyml.tasks.person_detection.data import augment_image

    # a checkerboard: blur shows as lost edge contrast, noise as pixels off the two levels
    img = np.kron((np.indices((12, 12)).sum(0) % 2) * 200 + 20, np.ones((8, 8))).astype(np.uint8)
    plain = augment_image(img, np.random.default_rng(5), min_crop=1.0, max_rotation_deg=0)
    off = augment_image(img, np.random.default_rng(5), min_crop=1.0, max_rotation_deg=0, blur=0.0, noise=0.0)
    assert np.array_equal(plain, off)  # off draws nothing: the copies of older configs keep their bytes

    def sharpness(blur: float) -> float:  # steepest step across the image's range, mean of 8 copies
        rng = np.random.default_rng(5)
        copies = [augment_image(img, rng, min_crop=1.0, max_rotation_deg=0, blur=blur).astype(int) for _ in range(8)]
        return float(np.mean([np.abs(np.diff(c, axis=1)).max() / max(1, np.ptp(c)) for c in copies]))

    assert sharpness(3.0) < 0.8 * sharpness(0.0)
    noisy = augment_image(np.full((96, 96), 128, np.uint8), np.random.default_rng(5), noise=20.0)
    assert noisy.std() > 1.0


def test_augmentation_settings_reach_the_training_copies():
    cfg = PersonDetectionConfig()
    samples = TASK.synthetic(cfg, 2, 0)
    plain, _ = TASK.examples(samples, cfg, 1, seed=0)
    again, _ = TASK.examples(samples, cfg, 1, seed=0)
    softer, _ = TASK.examples(samples, replace(cfg, augment_blur=2.0, augment_noise=10.0), 1, seed=0)
    assert np.array_equal(plain, again)
    assert np.array_equal(plain[::2], softer[::2])  # the photos themselves are untouched
    assert not np.array_equal(plain[1::2], softer[1::2])

def coco_fixture(root: Path) -> tuple[Path, Path]:
    """Four images: a large person, a person under 0.5 % of the area, a car, and one not on disk."""
    from PIL import Image

    images = root / "images"
    images.mkdir()
    for name in ("big.jpg", "tiny.jpg", "car.jpg", "edge.jpg"):
        Image.fromarray(np.full((100, 200, 3), 128, np.uint8)).save(images / name)
    data = {
        "images": [{"id": 1, "file_name": "big.jpg", "width": 200, "height": 100},
                   {"id": 2, "file_name": "tiny.jpg", "width": 200, "height": 100},
                   {"id": 3, "file_name": "car.jpg", "width": 200, "height": 100},
                   {"id": 4, "file_name": "../../edge.jpg", "width": 200, "height": 100},
                   {"id": 5, "file_name": "gone.jpg", "width": 200, "height": 100}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 40, 60], "area": 1800, "iscrowd": 0},
            {"id": 2, "image_id": 2, "category_id": 1, "bbox": [0, 0, 9, 10], "area": 80, "iscrowd": 0},
            {"id": 3, "image_id": 3, "category_id": 3, "bbox": [0, 0, 150, 90], "area": 9000, "iscrowd": 0},
            {"id": 4, "image_id": 4, "category_id": 1, "bbox": [0, 0, 11, 10], "area": 100, "iscrowd": 0},
            {"id": 5, "image_id": 5, "category_id": 1, "bbox": [0, 0, 100, 100], "area": 9000, "iscrowd": 0},
        ],
        "categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}],
    }
    ann = root / "instances.json"
    ann.write_text(json.dumps(data))
    return images, ann


def test_vww_labels_follow_the_half_percent_box_rule(tmp_path):
    from tinyml.tasks.person_detection.vww import read_coco, vww_labels

    _, ann = coco_fixture(tmp_path)
    labels = vww_labels(read_coco(ann))
    # 9x10 = 90 px is 0.45 % of 20,000 (negative); 11x10 = 110 px is 0.55 % (positive)
    assert labels == {"big.jpg": True, "tiny.jpg": False, "car.jpg": False, "../../edge.jpg": True,
                      "gone.jpg": True}
    assert vww_labels(read_coco(ann), "car")["car.jpg"] is True


def test_make_vww_writes_the_loader_layout_and_stays_in_its_folder(tmp_path):
    images, ann = coco_fixture(tmp_path)
    out = tmp_path / "vww"
    proc = run_cli("make-vww", "--images", str(images), "--annotations", str(ann), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "1 annotated images not found" in proc.stdout
    assert sorted(p.name for p in (out / "person").iterdir()) == ["big.jpg", "edge.jpg"]
    assert sorted(p.name for p in (out / "non_person").iterdir()) == ["car.jpg", "tiny.jpg"]
    assert not (tmp_path.parent / "edge.jpg").exists()
    samples = TASK.load(out, PersonDetectionConfig())
    assert len(samples) == 4
    bad = run_cli("make-vww", "--images", str(images), "--annotations", str(images / "big.jpg"), "--out", str(out))
    assert bad.returncode != 0 and "not a COCO instances file" in bad.stderr and "Traceback" not in bad.stderr
    # a failed rebuild leaves the earlier folder whole; a user's own folder is never filled
    assert len(TASK.load(out, PersonDetectionConfig())) == 4 and json.loads((out / "vww.json").read_text())["counts"]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    proc = run_cli("make-vww", "--images", str(images), "--annotations", str(ann), "--out", str(mine))
    assert proc.returncode != 0 and "did not write" in proc.stderr and (mine / "notes.txt").read_text() == "keep"


# --- model ----------------------------------------------------------------------------------

def test_default_widths_are_mobilenet_quarter_capped():
    assert layer_widths(PersonDetectionConfig()) == [8, 16, 32, 32, 64, 64, 128, 128, 128, 128, 128, 128, 128, 128]
    assert layer_widths(PersonDetectionConfig(max_filters=0))[-2:] == [256, 256]


def test_width_resolution_and_classes_are_configurable():
    cfg = PersonDetectionConfig(image_size=64, alpha=0.5, max_filters=0, labels=("none", "cat", "dog"),
                                positive_label="cat", init_from="", distill=False, frozen_layers=0)
    TASK.check_config(cfg)
    with pytest.raises(TinyMLError, match="has 2 classes, not 3; set --set distill=false"):
        TASK.check_config(PersonDetectionConfig(labels=("none", "cat", "dog"), positive_label="cat"))
    with pytest.raises(TinyMLError, match="lower alpha or max_filters, or train from random weights"):
        TASK.build_model(PersonDetectionConfig(alpha=0.5, max_filters=0))
    model = TASK.build_model(cfg)
    assert tuple(model.input_shape) == (None, 64, 64, 1) and tuple(model.output_shape) == (None, 3)
    assert layer_widths(cfg)[-1] == 512
    fw = TASK.firmware(PersonDetectionConfig(labels=("none", "cat", "dog"), positive_label="cat", image_size=64),
                       type("Info", (), {"inputs": (TensorInfo("in", (1, 64, 64, 1), "int8", 2 / 255, -1),),
                                         "outputs": (TensorInfo("out", (1, 3), "int8", 1 / 256, -128),)})())
    assert fw.context["image"]["positive_index"] == 1 and fw.context["image"]["width"] == 64
    with pytest.raises(TinyMLError, match="positive label"):
        TASK.check_config(PersonDetectionConfig(labels=("a", "b")))
    with pytest.raises(TinyMLError, match="not a safe label"):
        TASK.check_config(PersonDetectionConfig(labels=("non_person", "../person")))


def test_frozen_layers_keep_the_starts_weights_while_the_rest_train():
    import keras

    from tinyml.fit import fit

    cfg = PersonDetectionConfig(frozen_layers=11, epochs=1, augment_copies=0, distill=False, learning_rate=0.01)
    TASK.check_config(cfg)
    x, y = TASK.examples(TASK.synthetic(cfg, 8, 0), cfg)
    start = [layer.get_weights() for layer in TASK.build_model(cfg).layers
             if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D))]
    model, _ = fit(TASK, cfg, x, y)
    trained = [layer.get_weights() for layer in model.layers
               if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D))]
    assert len(trained) == 28  # 27 of MobileNet v1, then the classifier
    moved = [not all(np.array_equal(a, b) for a, b in zip(w0, w1)) for w0, w1 in zip(start, trained)]
    assert moved == [False] * 11 + [True] * 17
    for bad in (-1, 28):
        with pytest.raises(TinyMLError, match=f"frozen_layers {bad}: give 0"):
            TASK.check_config(replace(cfg, frozen_layers=bad))
    with pytest.raises(TinyMLError, match="random weights.*also set --set frozen_layers=0$"):
        TASK.check_config(replace(cfg, init_from=""))
    with pytest.raises(TinyMLError, match="also set --set distill=false --set frozen_layers=0$"):
        TASK.check_config(PersonDetectionConfig(init_from=""))


@pytest.fixture(scope="module")
def published(reference_models) -> Path:
    return reference_models / "person_detect.tflite"


@pytest.fixture(scope="module")
def reference_images(shared_data) -> np.ndarray:
    from tinyml.tasks.person_detection.data import read_gray

    root = shared_data / "tflm_reference" / "person_detection"
    # TFLM's person.bmp holds the int8 input bytes (pixel - 128, wrapped into a byte) rather than
    # pixels — TFLM's own test copies it straight into the int8 tensor — so XOR 0x80 recovers the
    # photo. no_person.bmp holds ordinary pixels.
    return np.stack([read_gray(root / "no_person.bmp"), read_gray(root / "person.bmp") ^ 0x80])


@pytest.mark.slow
def test_init_from_rebuilds_the_published_model(published, reference_images):
    from dataclasses import replace

    from tinyml import tflm
    from tinyml.modelinfo import read_model

    tflite = published.read_bytes()
    cfg = replace(PersonDetectionConfig(), init_from=str(published), max_filters=0, dropout=0.0)
    model = TASK.build_model(cfg)
    keras_scores = model.predict(TASK.model_inputs(reference_images), verbose=0)
    info = read_model(tflite)
    q = tflm.predict_int8(tflite, TASK.int8_inputs(reference_images, info)).reshape(2, 2)
    int8_scores = (q.astype(float) - info.outputs[0].zero_point) * info.outputs[0].scale
    assert list(int8_scores.argmax(1)) == [0, 1]  # no_person.bmp → no_person, person.bmp → person
    assert list(keras_scores.argmax(1)) == [0, 1]
    assert np.max(np.abs(keras_scores - int8_scores)) < 0.03  # measured: 0.008


@pytest.mark.slow
def test_init_from_prunes_to_the_strongest_channels(published):
    from tinyml.modelimport import import_layers
    from tinyml.tasks.person_detection.task import seed_weights

    _, layers = import_layers(published.read_bytes())
    weights = seed_weights(layers, layer_widths(PersonDetectionConfig()), 2, "published")
    assert weights[-2][0].shape == (1, 1, 128, 128) and weights[-1][0].shape == (1, 1, 128, 2)
    full = layers[-4].kernel  # pointwise 128 → 256 before the last block
    norms = np.abs(full).reshape(-1, 256).sum(0)
    kept_norms = np.abs(weights[-4][0]).reshape(-1, 128).sum(0)
    assert np.isclose(kept_norms.min(), np.sort(norms)[-128])


def test_init_from_refuses_a_three_channel_model(tmp_path):
    import keras

    from tinyml.quantize import quantize

    inp = keras.Input((16, 16, 3))
    out = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(
        keras.layers.Conv2D(4, 3)(inp)))
    path = tmp_path / "rgb.tflite"
    path.write_bytes(quantize(keras.Model(inp, out), np.random.default_rng(0).uniform(-1, 1, (8, 16, 16, 3))))
    proc = run_cli("train", "person_detection", "--init-from", str(path), "--out", str(tmp_path / "run"))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "3 channels" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_init_from_refuses_a_model_of_another_shape(tmp_path, reference_models):
    proc = run_cli("train", "person_detection", "--init-from", str(reference_models / "micro_speech_quantized.tflite"),
                   "--out", str(tmp_path / "run"))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


# --- sketch -----------------------------------------------------------------------------------

GOLDEN = SHARED_GOLDEN / "person_detection_c"


@pytest.mark.slow
def test_published_model_exports_as_a_camera_sketch(tmp_path, published):
    proc = run_cli("export", str(published), "--task", "person_detection", "--board", "nano33ble_sense",
                   "--out", str(tmp_path), "--name", "person_camera")
    assert proc.returncode == 0, proc.stderr
    sketch = tmp_path / "person_camera"
    ino = (sketch / "person_camera.ino").read_text()
    assert "Camera.begin(QCIF, GRAYSCALE, 1)" in ino and "image_to_input(frame" in ino
    assert "Arduino_OV767X" in json.loads((sketch / "manifest.json").read_text())["libraries"][1]
    for name in ("image_preprocess.c", "image_preprocess.h"):
        assert (sketch / name).read_text() == (GOLDEN / name).read_text(), name
    assert compile_sketch(sketch, "person_camera.ino").returncode == 0
    settings = (sketch / "model_settings.h").read_text()
    assert '"non_person"' in settings and "kCameraFrameWidth = 176" in settings


@pytest.mark.slow
def test_train_and_evaluate_on_an_image_folder(tmp_path):
    write_images(tmp_path / "data", n=6)
    run = tmp_path / "run"
    proc = run_cli("train", "person_detection", "--data", str(tmp_path / "data"), "--out", str(run),
                   "--set", "epochs=1", "--set", "augment_copies=0", "--allow-weak")
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((run / "report.json").read_text())
    assert report["flash_bytes"] <= 256000 and report["labels"] == ["non_person", "person"]
    assert (run / "confusion.png").stat().st_size > 1000
    assert json.loads((run / "config.json").read_text())["max_filters"] == 128
    proc = run_cli("evaluate", str(run), "--data", str(tmp_path / "data"), "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["samples"] == 13 and sum(map(sum, result["confusion"])) == 13


def test_images_in_any_common_format_and_sub_folders_are_used_and_the_rest_named(tmp_path, capsys):
    from PIL import Image

    from tinyml.tasks.person_detection.data import load_image_dir

    rng = np.random.default_rng(0)

    def save(path, mode="L"):
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).convert(mode).save(path)

    save(tmp_path / "person" / "a.webp", "RGB")
    save(tmp_path / "person" / "b.gif", "P")
    save(tmp_path / "person" / "holiday" / "c.jpg", "RGB")
    save(tmp_path / "non_person" / "d.png")
    save(tmp_path / "non_person" / "e.tiff")
    save(tmp_path / "circle" / "f.png")
    (tmp_path / "person" / "._a.jpg").write_bytes(b"\x00\x05\x16\x07")
    (tmp_path / "README.txt").write_text("photos")
    samples = load_image_dir(tmp_path, ("non_person", "person"), (24, 24))
    assert sorted(s.label for s in samples) == ["non_person"] * 2 + ["person"] * 3
    assert all(s.data.shape == (24, 24) for s in samples)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "left out 3 entries" in err
    assert "circle/" in err and "README.txt" in err and "person/._a.jpg" in err


def test_a_phone_photo_is_read_right_side_up(tmp_path):
    from PIL import Image

    from tinyml.tasks.person_detection.data import read_gray

    upright = np.zeros((30, 20), dtype=np.uint8)
    upright[:5] = 255  # bright top rows
    stored = Image.fromarray(np.rot90(upright, 1).copy())  # the sensor's sideways image
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    stored.save(tmp_path / "phone.jpg", exif=exif, quality=95)
    gray = read_gray(tmp_path / "phone.jpg")
    assert gray.shape == (30, 20) and gray[:5].mean() > 200 and gray[-5:].mean() < 50


# --- the person model shipped with tinyml (benchmarks/build_person_base.py) ---------------------


def test_the_shipped_base_is_a_full_int8_model_within_the_budget():
    from tinyml import tflm
    from tinyml.budgets import budgets, check_budget
    from tinyml.modelinfo import read_model
    from tinyml.tasks.person_detection.task import BASE, init_model_bytes

    model = init_model_bytes(BASE)
    info = read_model(model)
    info.require_full_int8()
    arena = tflm.measure_arena(model)
    assert len(model) <= budgets()["person_detection"]["flash_bytes"] <= 256_000
    check_budget("person_detection", len(model), arena)
    assert tuple(info.inputs[0].shape) == (1, 96, 96, 1) and info.outputs[0].elements == 2


def _int8_calls(model: bytes, images: np.ndarray) -> list[int]:
    from tinyml import tflm
    from tinyml.modelinfo import read_model

    q = TASK.int8_inputs(images, read_model(model))
    return list(tflm.predict_int8(model, q).reshape(len(images), -1).argmax(1))


def test_the_shipped_base_sees_the_tflm_reference_person(reference_images):
    from tinyml.tasks.person_detection.task import BASE, init_model_bytes

    assert _int8_calls(init_model_bytes(BASE), reference_images) == [0, 1]


def test_person_photos_load_grouped_by_their_original_photo(shared_data, tmp_path):
    """Real photos through the loader, with MANIFEST.csv's groups (read in place: linked, not copied)."""
    import csv

    from tinyml.tasks.person_detection.data import load_image_dir

    root = shared_data / "person_photos"
    if not (root / "MANIFEST.csv").is_file():
        pytest.skip(f"{root} not found")
    rows = list(csv.DictReader(open(root / "MANIFEST.csv", newline="")))
    crop = next(r for r in rows if r["kind"] == "human-crop")
    pick = [crop, next(r for r in rows if r["kind"] == "human" and r["original_path"] == crop["original_path"]),
            *[r for r in rows if r["kind"] == "caltech-Faces"][:2], *[r for r in rows if r["kind"] == "caltech-Faces_easy"][:2],
            *[r for r in rows if r["kind"].startswith("intel")][:3]]
    for r in pick:
        (tmp_path / r["file"]).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / r["file"]).symlink_to(root / r["file"])
    with open(tmp_path / "MANIFEST.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(pick)
    samples = load_image_dir(tmp_path, ("non_person", "person"), (96, 96))
    by_file = {Path(s.source).relative_to(tmp_path).as_posix(): s for s in samples}
    assert len(samples) == len(pick) and all(s.data.shape == (96, 96) and s.data.dtype == np.uint8 for s in samples)
    assert by_file[pick[0]["file"]].person == by_file[pick[1]["file"]].person  # a photo and its person-free crop
    assert by_file[pick[2]["file"]].person == by_file[pick[4]["file"]].person  # Faces and Faces_easy: one photo
    assert len({s.person for s in samples}) == len(pick) - 3  # one crop pair, two Faces pairs


@pytest.mark.slow
def test_the_demos_person_model_sees_the_tflm_reference_person(quick_demo, reference_images):
    model = (quick_demo / "runs" / "person_detection" / "model.tflite").read_bytes()
    assert _int8_calls(model, reference_images) == [0, 1]


def test_colour_photos_become_the_cameras_luma(tmp_path):
    """The OV767X's grayscale mode keeps the Y of YUV: ITU-R 601 luma, what the loader computes."""
    from PIL import Image

    from tinyml.tasks.person_detection.data import read_gray

    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [200, 120, 40]]], dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "c.png")
    luma = (rgb.astype(np.float64) @ [0.299, 0.587, 0.114]).round()
    assert np.abs(read_gray(tmp_path / "c.png").astype(int) - luma.astype(int)).max() <= 1
