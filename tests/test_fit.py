"""tinyml.fit: examples stream into training batch by batch (from memory or a memory map on disk)
with the same result either way, and several devices train through MirroredStrategy."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import replace

import numpy as np

from tinyml import fit as fitmod
from tinyml.quantize import quantize
from tinyml.tasks import get_task


def _task_data():
    task = get_task("magic_wand")
    cfg = replace(task.quick_config(), epochs=2)
    samples = task.synthetic(cfg, 6, 0)
    x, y = task.examples(samples, cfg, 0, 0)
    return task, cfg, x, y


def test_example_buffer_goes_to_disk_over_the_limit(monkeypatch, tmp_path):
    monkeypatch.setenv("TINYML_CACHE", str(tmp_path))
    small = fitmod.example_buffer((10, 4), np.int8)
    assert not isinstance(small, np.memmap)
    monkeypatch.setattr(fitmod, "IN_MEMORY_LIMIT_BYTES", 16)
    big = fitmod.example_buffer((10, 4), np.int8)
    assert isinstance(big, np.memmap) and big.shape == (10, 4)
    big[:] = 7
    assert int(big.sum()) == 280
    assert not list((tmp_path / "examples").iterdir())  # unlinked at once: nothing left behind


def test_training_from_a_memory_map_gives_the_same_model(monkeypatch, tmp_path):
    task, cfg, x, y = _task_data()
    model, _ = fitmod.fit(task, cfg, x, y)
    in_memory = quantize(model, task.representative(task.model_inputs(x[:50])))
    monkeypatch.setenv("TINYML_CACHE", str(tmp_path))
    monkeypatch.setattr(fitmod, "IN_MEMORY_LIMIT_BYTES", 0)
    mapped = fitmod.example_buffer(x.shape, x.dtype)
    mapped[:] = x
    assert isinstance(mapped, np.memmap)
    model, history = fitmod.fit(task, cfg, mapped, y)
    assert quantize(model, task.representative(task.model_inputs(x[:50]))) == in_memory
    assert history["devices"] == 1


def test_one_device_uses_the_default_strategy():
    import tensorflow as tf

    assert fitmod.training_strategy([]) is tf.distribute.get_strategy()


def test_several_devices_train_with_mirrored_strategy():
    """Two logical CPUs stand in for two GPUs (the device list must be set before TensorFlow starts,
    hence a fresh interpreter): the model trains with one replica per device."""
    code = textwrap.dedent("""
        import os
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from tinyml import fit
        import tests.test_fit as t
        task, cfg, x, y = t._task_data()
        strategy = fit.training_strategy(["/cpu:0", "/cpu:1"])
        assert type(strategy).__name__ == "MirroredStrategy", strategy
        model, history = fit.fit(task, cfg, x, y, strategy=strategy)
        print("replicas", history["devices"], "loss", history["loss"][-1])
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "replicas 2 loss" in out.stdout


def test_mixup_blends_each_example_with_another_of_its_batch():
    x = np.arange(8, dtype=np.float32).reshape(8, 1) * 10
    y = np.eye(4, dtype=np.float32)[[0, 1, 2, 3, 0, 1, 2, 3]]
    bx, by = fitmod.mix_batch(x, y, 0.5, np.random.default_rng(1))
    assert np.allclose(by.sum(axis=1), 1)  # still a distribution over the classes
    own = by[np.arange(8), [0, 1, 2, 3, 0, 1, 2, 3]]
    assert (own >= 0.5 - 1e-6).all() and (own < 1).any()  # each leans to its own class, some are blended
    # inputs blended by the same share as the targets: the example's own value weighs `own` (or more,
    # when its partner has the same class)
    partner = (bx[:, 0] - own * x[:, 0]) / np.maximum(1 - own, 1e-6)
    blended = own < 1 - 1e-6
    assert np.isin(np.round(partner[blended]), x[:, 0]).all()
    again = fitmod.mix_batch(x, y, 0.5, np.random.default_rng(1))
    assert np.array_equal(again[0], bx) and np.array_equal(again[1], by)


def test_mixup_needs_scores_per_class_and_is_the_same_in_any_batch_order():
    import pytest

    x = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    with pytest.raises(ValueError, match="targets"):
        fitmod.to_tf_dataset(x, np.zeros(20, np.int64), 4, 0, True, mixup=0.5)
    y = np.eye(2, dtype=np.float32)[np.arange(20) % 2]
    first = [b for b in fitmod.to_tf_dataset(x, y, 4, 0, True, mixup=0.5).take(3)]
    second = [b for b in fitmod.to_tf_dataset(x, y, 4, 0, True, mixup=0.5).take(3)]
    assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(first, second))
    plain = [b for b in fitmod.to_tf_dataset(x, y, 4, 0, True).take(3)]
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(first, plain))


def test_cosine_schedule_falls_from_the_learning_rate_to_zero_over_all_steps():
    cfg = replace(get_task("micro_speech").default_config(), epochs=4, batch_size=10, learning_rate=0.002)
    assert fitmod.learning_rate(cfg, 95) == 0.002  # constant: the configured rate throughout
    cosine = fitmod.learning_rate(replace(cfg, lr_schedule="cosine"), 95)  # 10 batches per epoch, 40 steps
    rates = [float(cosine(step)) for step in (0, 20, 40)]
    assert np.allclose(rates, [0.002, 0.001, 0.0], atol=1e-7)
