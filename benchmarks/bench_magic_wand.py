"""magic_wand on recordings we did not make, across people and boards (int8, in TFLM).

Prints:
- the default (synthetic) dataset: generation and training time, model bytes, arena;
- leave-one-person-out over the 8 people of the original TF magic_wand data, all four classes:
  each fold holds out one person's gestures and one of the 6 negative recordings (cut into
  windows), and trains on the rest;
- streaming: each held-out negative recording run through the device's stream path (windows
  every `stride` bins, gesture rule) with the fold model that never saw it: false detections/min;
- trained on all TF data, scored on the Nuvoton recordings (another person, another board) with no
  axis map declared, and the reverse; both again, and leave-one-person-out, with the cross-board
  recipe (CROSS_BOARD: generated gestures of both drawing styles, carried and mirrored copies,
  tilt, quicker drawing, a wider model);
- the synthetic-only default model (the task's synthetic config) scored on the TF data, and over six
  seeds on both real sets (`--synthetic-only` runs just that);
- leave-one-person-out on the Arduino IMU-capture punch/flex recordings (3 people, 6 axes).

Units are inferred by the loaders; the Nuvoton files store no rate (100 Hz declared).

Usage: python benchmarks/bench_magic_wand.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[1]
# The cross-board recipe: settings for gestures that must be found whoever draws them, in either
# drawing style or direction, on any board (README: "Across boards").
CROSS_BOARD = ["synthetic_gestures=100", "augment_carry=0.5", "augment_mirror=0.5", "augment_tilt=0.5",
               "augment_warp=0.5,1.25", "filters=24,24,24"]
DATA = Path(os.environ.get("TINYML_SHARED_DATA", REPO.parent / "shared" / "data"))


def fit_int8(task, cfg, train, seed):
    """Train on recordings (plus the task's own extra negatives) → int8 .tflite bytes."""
    from tinyml.fit import fit
    from tinyml.quantize import quantize

    tx, ty = task.examples(train + task.extra_training(cfg), cfg, cfg.augment_copies, seed)
    model, _ = fit(task, cfg, tx, ty)
    return quantize(model, task.representative(task.model_inputs(tx[np.random.default_rng(seed).permutation(
        len(tx))[:300]])))


def person_folds(samples, people, neg_files, negative_label):
    """Leave-one-person-out: fold k holds out person k's gestures and negative recording k (cycling),
    → (k, person, held-out negative file, train, test)."""
    for k, person in enumerate(people):
        held_neg = neg_files[k % len(neg_files)]
        is_test = [s.person == person if s.label != negative_label else s.source.startswith(held_neg + ":")
                   for s in samples]
        yield (k, person, held_neg, [s for s, t in zip(samples, is_test) if not t],
               [s for s, t in zip(samples, is_test) if t])


def score(task, cfg, tflite, test):
    from tinyml.fit import evaluate_int8

    vx, vy = task.examples(test, cfg, 0, 0)
    return evaluate_int8(task, tflite, vx, vy, cfg.labels)


def synthetic_only(task, cfg, seed0_model: bytes, real_sets, seeds: int) -> None:
    """The model trained on the synthetic default only, scored on real recordings. The figure moves
    with the seed (generated data and weights), so several seeds on every real set."""
    import tinyml.config as C
    from tinyml.train import train_task

    r = score(task, cfg, seed0_model, real_sets[0][1])
    print(f"synthetic-only default model on {real_sets[0][0]}: {r['accuracy']:.3f} ({recall_text(r)})")
    by_set = {name: [] for name, _ in real_sets}
    for seed in range(seeds):
        seeded = C.replace(cfg, seed=seed)
        if seeded == cfg:  # the model main() trained already (training is deterministic)
            tflite = seed0_model
        else:
            tflite = train_task(task, seeded, task.synthetic(seeded, 100, seed), progress=lambda *_: None).tflite
        for name, samples in real_sets:
            by_set[name].append(score(task, seeded, tflite, samples)["accuracy"])
    for name, accs in by_set.items():
        print(f"synthetic-only, seeds 0-{seeds - 1}, on {name}: mean {np.mean(accs):.3f} "
              f"[{', '.join(f'{a:.3f}' for a in accs)}]", flush=True)


def recall_text(r) -> str:
    return ", ".join(f"{c} {v:.2f}" for c, v in r["per_class_recall"].items() if v is not None)


def stream_detections(task, cfg, tflite, data: np.ndarray, rate_hz: float) -> list[tuple[int, int]]:
    """(time ms, class) detections on a continuous recording, as the device runs it: windows every
    `stride` bins, int8 in TFLM, the gesture rule."""
    from tinyml import tflm
    from tinyml.modelinfo import read_model
    from tinyml.tasks.magic_wand import features as mf
    from tinyml.tasks.magic_wand.detect import run_detector

    info = read_model(tflite)
    t_us = mf.timestamps_us(len(data), rate_hz)
    wins = mf.stream_windows(data, t_us, cfg.features, mf.input_multiplier(info.inputs[0].scale),
                             info.inputs[0].zero_point)
    scores = tflm.predict_int8(tflite, np.stack([w for _, w in wins]).reshape(len(wins), *info.inputs[0].shape[1:]))
    return run_detector(task.detector(cfg, info), scores.reshape(len(wins), -1), t_us[[i for i, _ in wins]] // 1000)


def stream_false_detections(task, cfg, tflite, path: Path) -> tuple[int, float]:
    """(detections, minutes) for a continuous negative recording."""
    from tinyml.tasks.magic_wand.data import MotionFormat, parse_tf_wand

    fmt = MotionFormat(units="mg", rate_hz=25.0, window_seconds=1e9)
    blocks = parse_tf_wand(path.read_text(errors="replace"), str(path), "negative", fmt)
    data = np.concatenate([b.data for b in blocks])
    return len(stream_detections(task, cfg, tflite, data, 25.0)), len(data) / 25.0 / 60


def stream_gestures_found(task, cfg, tflite, gestures) -> tuple[int, int]:
    """(found, total): gestures played back to back with 1.5 s of rest between them, each counted
    when a detection of its class falls within it or the 1.5 s after."""
    rate = gestures[0].rate_hz
    rest = int(1.5 * rate)
    parts, spans, pos = [], [], 0
    for g in gestures:
        parts += [np.repeat(g.data[:1], rest, 0), g.data]
        pos += rest
        spans.append((pos * 1000 / rate, (pos + len(g.data) + rest) * 1000 / rate, cfg.labels.index(g.label)))
        pos += len(g.data)
    parts.append(np.repeat(gestures[-1].data[-1:], rest, 0))
    hits = stream_detections(task, cfg, tflite, np.concatenate(parts), rate)
    found = sum(any(a <= t <= b and c == label for t, c in hits) for a, b, label in spans)
    return found, len(spans)


def legacy(argv) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer epochs, for a smoke run")
    ap.add_argument("--synthetic-only", action="store_true",
                    help="only the models trained on the synthetic default, scored on the real sets")
    ap.add_argument("--synthetic-seeds", type=int, default=6, help="seeds of the synthetic-only model (default 6)")
    args = ap.parse_args(argv)
    from tinyml import config as C
    from tinyml.tasks import get_task
    from tinyml.train import train_task

    task = get_task("magic_wand")
    base = C.replace(task.default_config(), init_from="", **SCRATCH)
    synthetic_cfg = task.synthetic_config()  # what `tinyml train` without --data and the demo start from
    if args.quick:
        base = C.replace(base, epochs=5, augment_copies=1)
        synthetic_cfg = C.replace(synthetic_cfg, epochs=5, augment_copies=1)
    start = time.time()

    t0 = time.time()
    synth = task.synthetic(synthetic_cfg, 100, 0)
    gen_s = time.time() - t0
    result = train_task(task, synthetic_cfg, synth, progress=lambda *_: None)
    rep = result.report
    print(f"default dataset: {len(synth)} synthetic recordings generated in {gen_s:.1f} s; train+convert+evaluate "
          f"{rep['total_seconds']} s (fit {rep['fit_seconds']} s); {rep['flash_bytes']:,} B flash, "
          f"arena {rep['arena_bytes']:,} B")

    tf_dir = DATA / "magic_wand_tf"
    if not tf_dir.is_dir():
        print(f"real data not found at {DATA}; stopping")
        return
    tf = task.load(tf_dir, base)
    nv_dir = DATA / "magic_wand"
    nv_cfg = C.replace(base, data_format={**C.to_dict(base.data_format), "rate_hz": 100.0})
    nv = task.load(nv_dir, nv_cfg) if nv_dir.is_dir() else None
    real_sets = [("magic_wand_tf", tf)] + ([("Nuvoton", nv)] if nv is not None else [])
    if args.synthetic_only:
        synthetic_only(task, synthetic_cfg, result.tflite, real_sets, args.synthetic_seeds)
        return
    people = sorted({s.person for s in tf if s.label != base.negative_label})
    neg_files = sorted({s.source.split(":")[0] for s in tf if s.label == base.negative_label})
    print(f"magic_wand_tf: {len(tf)} samples; people {', '.join(people)}; {len(neg_files)} negative recordings")

    accs, fp_hits, fp_minutes, sizes, found, total = [], 0, 0.0, [], 0, 0
    for k, person, held_neg, train, test in person_folds(tf, people, neg_files, base.negative_label):
        tflite = fit_int8(task, base, train, base.seed + k)
        sizes.append(len(tflite))
        r = score(task, base, tflite, test)
        accs.append(r["accuracy"])
        line = f"  held out {person} + {Path(held_neg).name}: {r['accuracy']:.3f} on {r['samples']} ({recall_text(r)})"
        f, n = stream_gestures_found(task, base, tflite, [s for s in test if s.label != base.negative_label])
        found, total = found + f, total + n
        line += f"; streamed gestures found {f}/{n}"
        if k < len(neg_files):  # each negative recording streamed once, by a model that never saw it
            hits, minutes = stream_false_detections(task, base, tflite, Path(held_neg))
            fp_hits += hits
            fp_minutes += minutes
            line += f"; stream {hits} false detections in {minutes:.1f} min"
        print(line, flush=True)
    print(f"leave-one-person-out, wing/ring/slope/negative: mean {np.mean(accs):.3f}, worst {min(accs):.3f}; "
          f"model {max(sizes):,} B")
    cross = C.apply_sets(base, CROSS_BOARD)
    cross_accs, cross_hits, cross_minutes = [], 0, 0.0
    for k, _, held_neg, train, test in person_folds(tf, people, neg_files, base.negative_label):
        tflite = fit_int8(task, cross, train, base.seed + k)
        cross_accs.append(score(task, cross, tflite, test)["accuracy"])
        if k < len(neg_files):
            hits, minutes = stream_false_detections(task, cross, tflite, Path(held_neg))
            cross_hits, cross_minutes = cross_hits + hits, cross_minutes + minutes
    print(f"the same with the cross-board recipe ({' '.join(CROSS_BOARD)}): mean {np.mean(cross_accs):.3f}, worst "
          f"{min(cross_accs):.3f} [{', '.join(f'{a:.3f}' for a in cross_accs)}]; {cross_hits / cross_minutes:.2f} "
          "false detections per minute")
    print(f"TF negative recordings streamed by models that never saw them: {fp_hits} false detections in "
          f"{fp_minutes:.1f} min ({fp_hits / fp_minutes:.2f} per minute); held-out gestures streamed with rest "
          f"between them: {found}/{total} found ({found / total:.2f}) with the default rule {base.rule}")

    if nv is not None:
        tflite = fit_int8(task, base, tf, base.seed)
        r = score(task, base, tflite, nv)
        print(f"trained on magic_wand_tf, scored on the Nuvoton recordings (no axis map): {r['accuracy']:.3f} "
              f"({recall_text(r)})")
        tflite = fit_int8(task, base, nv, base.seed)
        r = score(task, base, tflite, tf)
        print(f"trained on the Nuvoton recordings, scored on magic_wand_tf: {r['accuracy']:.3f} ({recall_text(r)})")
        for name, train_set, test_set in (("magic_wand_tf", tf, nv), ("the Nuvoton recordings", nv, tf)):
            results = []
            for seed in range(3):
                cfg = C.replace(cross, seed=seed)
                tflite = fit_int8(task, cfg, train_set, seed)
                results.append(score(task, cfg, tflite, test_set))
            each = "; ".join(f"{r['accuracy']:.3f} ({recall_text(r)})" for r in results)
            print(f"trained on {name} with the cross-board recipe ({len(tflite):,} B), seeds 0-2: "
                  f"mean {np.mean([r['accuracy'] for r in results]):.3f} [{each}]")

    synthetic_only(task, synthetic_cfg, result.tflite, real_sets, args.synthetic_seeds)

    imu_dir = DATA / "imu_capture_csv"
    if imu_dir.is_dir():
        imu_cfg = C.replace(base, labels=("punch", "flex"), negative_label="",
                            features={**C.to_dict(base.features), "axes": 6},
                            data_format={**C.to_dict(base.data_format), "units": "g", "axes": 6})
        imu = task.load(imu_dir, imu_cfg)
        imu_people = sorted({s.person for s in imu})
        accs = []
        for k, person in enumerate(imu_people):
            tflite = fit_int8(task, imu_cfg, [s for s in imu if s.person != person], imu_cfg.seed + k)
            accs.append(score(task, imu_cfg, tflite, [s for s in imu if s.person == person])["accuracy"])
        print(f"IMU-capture punch/flex ({len(imu)} gestures, {len(imu_people)} people, 6 axes): leave-one-person-out "
              f"{np.mean(accs):.3f} [{', '.join(f'{p} {a:.2f}' for p, a in zip(imu_people, accs))}]")
    print(f"total {time.time() - start:.0f} s")
    sys.stdout.flush()


SCRATCH = {"epochs": 30, "learning_rate": 0.003, "augment_copies": 4, "min_examples_per_class": 0}
"""The from-random-weights recipe the figures of --legacy were measured with."""
SHOTS = (0, 1, 3, 5, 10)


def draw_shots(samples, labels, n: int, seed: int):
    """(the n recordings per class a user would record, the rest of that person's recordings)."""
    rng = np.random.default_rng(seed)
    shots, rest = [], []
    for label in labels:
        mine = [s for s in samples if s.label == label]
        order = rng.permutation(len(mine))
        shots += [mine[i] for i in order[:n]]
        rest += [mine[i] for i in order[n:]]
    return shots, rest


def personalize(task, cfg, shots, draw: int) -> bytes:
    """`tinyml train magic_wand --data SHOTS` as a user runs it (the final model; its cross-validation
    is the user's report, not a figure here)."""
    from tinyml import config as C
    from tinyml.train import fit_and_quantize

    return fit_and_quantize(task, C.replace(cfg, seed=draw), list(shots) + task.extra_training(cfg), [])[2]


def shot_curve(task, cfg, base_model: bytes, samples, shots=SHOTS, draws: int = 3, stream=None):
    """{n: (mean accuracy, mean per-class recall, accuracies of the draws, false detections per minute)}:
    for each draw, n recordings per class personalize the model (0: the base as shipped), scored on
    the person's other recordings; `stream` (readings, rate) of their negative motion is streamed
    through each personalized model."""
    out = {}
    for n in shots:
        accs, recalls, hits, minutes = [], [], 0, 0.0
        for draw in range(draws if n else 1):
            train, test = draw_shots(samples, cfg.labels, n, 100 + draw)
            model = personalize(task, cfg, train, draw) if n else base_model
            r = score(task, cfg, model, test)
            accs.append(r["accuracy"])
            recalls.append(r["per_class_recall"])
            if stream is not None:
                data, rate = stream(train)
                hits += len(stream_detections(task, cfg, model, data, rate))
                minutes += len(data) / rate / 60
        recall = {k: float(np.mean([x[k] for x in recalls if x[k] is not None])) for k in recalls[0]}
        out[n] = (float(np.mean(accs)), recall, accs, hits / minutes if minutes else None)
    return out


def curve_text(curve) -> str:
    lines = []
    for n, (acc, recall, accs, fpm) in curve.items():
        line = (f"    {n:2d} per class: {acc:.3f} [{', '.join(f'{a:.3f}' for a in accs)}] "
                f"({', '.join(f'{k} {v:.2f}' for k, v in recall.items())})")
        lines.append(line + (f"; streamed negatives {fpm:.2f} false detections/min" if fpm is not None else ""))
    return "\n".join(lines)


def negative_stream(negatives):
    """The person's negative recordings that were not among the shots, back to back: (readings, rate)."""
    def make(shots):
        used = {s.source for s in shots}
        rest = [s for s in negatives if s.source not in used]
        return np.concatenate([s.data for s in rest]), rest[0].rate_hz
    return make


def main() -> None:
    ap = argparse.ArgumentParser(description="magic_wand: the shipped base and personalization, per person")
    ap.add_argument("--draws", type=int, default=3, help="random draws of the recordings per point (default 3)")
    ap.add_argument("--tf-shots", default="0,5", help="points of the curve for each TF person (default 0,5)")
    ap.add_argument("--legacy", action="store_true", help="the earlier from-scratch and cross-board figures")
    args, rest = ap.parse_known_args()
    if args.legacy:
        legacy(rest)
        return
    sys.path.insert(0, str(REPO / "benchmarks"))
    from build_wand_base import base_config, train_base
    from tinyml import config as C
    from tinyml import tflm
    from tinyml.tasks import get_task
    from tinyml.tasks.magic_wand.task import init_model

    task = get_task("magic_wand")
    cfg = task.default_config()  # what `tinyml train magic_wand --data MY_CAPTURES` runs
    shipped = init_model("base").model
    start = time.time()
    print(f"shipped base: {len(shipped):,} B flash, arena {tflm.measure_arena(shipped):,} B; personalization: "
          f"init_from=base, {cfg.epochs} epochs at {cfg.learning_rate}, at least {cfg.min_examples_per_class} "
          f"augmented examples per class, {cfg.synthetic_negatives} generated negatives; {args.draws} draws per point",
          flush=True)
    tf_dir = DATA / "magic_wand_tf"
    if not tf_dir.is_dir():
        print(f"real data not found at {DATA}; stopping")
        return

    # Each TF person in turn: a base trained with the shipped recipe without them (and without one of the
    # 6 continuous negative recordings, which is then streamed), scored on their gestures and that recording.
    tf = task.load(tf_dir, cfg)
    people = sorted({s.person for s in tf if s.label != cfg.negative_label})
    neg_files = sorted({s.source.split(":")[0] for s in tf if s.label == cfg.negative_label})
    tf_shots = tuple(int(v) for v in args.tf_shots.split(","))
    by_n = {n: [] for n in tf_shots}
    fp_hits, fp_minutes = 0, 0.0
    for k, person, held_neg, train, test in person_folds(tf, people, neg_files, cfg.negative_label):
        fold_base = train_base(train, C.replace(base_config(), seed=k))
        with_base = C.replace(cfg, init_from=str(_as_start(fold_base, cfg, k)))
        curve = shot_curve(task, with_base, fold_base, test, tf_shots, args.draws)
        for n in tf_shots:
            by_n[n].append(curve[n][0])
        line = f"  {person} (base without them and {Path(held_neg).name}):\n{curve_text(curve)}"
        if k < len(neg_files):
            hits, minutes = stream_false_detections(task, cfg, fold_base, Path(held_neg))
            fp_hits, fp_minutes = fp_hits + hits, fp_minutes + minutes
            line += f"\n    {Path(held_neg).name} streamed by the base: {hits} false detections in {minutes:.1f} min"
        print(line, flush=True)
    for n in tf_shots:
        print(f"TF people, {n} per class: mean {np.mean(by_n[n]):.3f}, worst {min(by_n[n]):.3f}")
    print(f"TF negative recordings streamed by bases that never saw them: {fp_hits / fp_minutes:.2f} false "
          f"detections per minute ({fp_hits} in {fp_minutes:.1f} min)", flush=True)

    nv_dir = DATA / "magic_wand"
    if nv_dir.is_dir():
        nv_cfg = C.replace(cfg, data_format={**C.to_dict(cfg.data_format), "rate_hz": 100.0})
        nv = task.load(nv_dir, nv_cfg)
        curve = shot_curve(task, nv_cfg, shipped, nv, SHOTS, args.draws,
                           negative_stream([s for s in nv if s.label == cfg.negative_label]))
        print(f"Nuvoton board ({len(nv)} recordings, 100 Hz declared), the shipped base:\n{curve_text(curve)}",
              flush=True)

    imu_dir = DATA / "imu_capture_csv"
    if imu_dir.is_dir():
        six = C.replace(cfg, negative_label="", features={**C.to_dict(cfg.features), "axes": 6},
                        data_format={**C.to_dict(cfg.data_format), "units": "g", "axes": 6})
        everyone = task.load_for_scoring([imu_dir], C.replace(six, labels=_imu_labels(imu_dir)))
        for person in sorted({s.person for s in everyone}):
            mine = [s for s in everyone if s.person == person]
            labels = tuple(sorted({s.label for s in mine}))
            if len(labels) < 2:
                print(f"IMU capture, {person}: only {labels[0]} ({len(mine)}), nothing to tell it from; skipped")
                continue
            curve = shot_curve(task, C.replace(six, labels=labels), None, mine, SHOTS[1:], args.draws)
            print(f"IMU capture, {person}, {', '.join(labels)} ({len(mine)} gestures, 6 axes, from the base's "
                  f"accelerometer weights):\n{curve_text(curve)}", flush=True)
    print(f"total {time.time() - start:.0f} s")


def _imu_labels(root: Path) -> tuple[str, ...]:
    return tuple(sorted({p.stem for p in root.rglob("*.csv")}))


def _as_start(model: bytes, cfg, k: int) -> Path:
    """A fold's base written as a run folder (model.tflite and config.json), as --init-from takes it."""
    import json
    import tempfile

    from tinyml import config as C

    folder = Path(tempfile.mkdtemp(prefix=f"wand-fold{k}-"))
    (folder / "model.tflite").write_bytes(model)
    (folder / "config.json").write_text(json.dumps({"labels": list(cfg.labels), "features": C.to_dict(cfg.features)}))
    return folder / "model.tflite"


if __name__ == "__main__":
    main()
