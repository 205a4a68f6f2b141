"""micro_speech at the scale of a full Speech Commands download, on one machine.

Builds a folder of --clips files by hard-linking (or copying) the real clips of
../shared/data/speech_commands_train under distinct speaker names (a full download has 105,829),
then runs the training pipeline on every clip (unknown words included, not a sample of them):
  - listing: headers only, no audio held;
  - features: the micro front end on every clip, written to the on-disk cache (uncached clips/s),
    then the same again from the cache;
  - training: the recipe's examples (2 augmented copies per clip) in a memory map on disk, and
    --epochs epochs of tiny_conv streamed from it;
and prints the peak resident memory beside the size the raw audio would take in memory.

Usage: python benchmarks/bench_speech_scale.py [--clips 105829] [--epochs 1]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TINYML_SHARED_DATA", REPO.parent / "shared" / "data"))


def build_folder(src: Path, dst: Path, clips: int) -> int:
    """dst/<word>/<speaker>_nohash_<n>.flac: copy k of each source clip gets its own speaker id."""
    files = sorted(p for p in src.glob("*/*.flac"))
    made = 0
    for k in range(-(-clips // len(files))):
        for f in files:
            if made == clips:
                return made
            out = dst / f.parent.name / f"{k:02d}{f.name}"
            out.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(f, out)
            except OSError:
                shutil.copyfile(f, out)
            made += 1
    return made


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=105829)
    ap.add_argument("--epochs", type=int, default=1)
    args = ap.parse_args()
    src = DATA / "speech_commands_train"
    noise = DATA / "speech_commands" / "_background_noise_"
    if not src.is_dir() or not noise.is_dir():
        raise SystemExit(f"{src} or {noise} not found; this benchmark needs ../shared/data")
    from tinyml.fit import fit
    from tinyml.tasks import get_task

    work = Path(tempfile.mkdtemp(prefix="tinyml-scale-"))
    os.environ["TINYML_CACHE"] = str(work / "cache")  # a cold feature cache
    try:
        t = time.time()
        n = build_folder(src, work / "sc", args.clips)
        print(f"dataset: {n:,} clips linked in {time.time() - t:.0f} s "
              f"(raw audio in memory would be {n * 32000 / 1e9:.2f} GB)", flush=True)
        task = get_task("micro_speech")
        # every clip: unknown words at their full count, silence at one word's count
        cfg = replace(task.default_config(), unknown_ratio=1000.0, epochs=args.epochs)
        t = time.time()
        samples = task.load([work / "sc", noise], cfg)
        clips = [s for s in samples if s.label]
        print(f"listing: {len(clips):,} clips in {time.time() - t:.0f} s, {sum(hasattr(s.data, 'shape') for s in clips):,} "
              f"held in memory; peak RSS {peak_rss_gb():.2f} GB", flush=True)
        t = time.time()
        x, y = task.examples(samples, cfg, 0, 0)
        dt = time.time() - t
        print(f"features: {len(x):,} clips in {dt:.0f} s = {len(x) / dt:,.0f} clips/s computed and cached; "
              f"{x.nbytes / 1e6:.0f} MB; "
              f"peak RSS {peak_rss_gb():.2f} GB", flush=True)
        del x
        t = time.time()
        x, y = task.examples(samples, cfg, 0, 0)
        dt = time.time() - t
        print(f"features again: {len(x) / dt:,.0f} clips/s from the cache", flush=True)
        del x
        t = time.time()
        x, y = task.examples(samples, cfg, cfg.augment_copies, cfg.seed)
        dt = time.time() - t
        print(f"training examples with {cfg.augment_copies} augmented copies: {len(x):,} in {dt:.0f} s, "
              f"{'a memory map on disk' if hasattr(x, 'filename') else 'in memory'} ({x.nbytes / 1e6:.0f} MB)",
              flush=True)
        t = time.time()
        model, history = fit(task, cfg, x, y)
        dt = time.time() - t
        print(f"training: {args.epochs} epoch(s) over {len(x):,} examples in {dt:.0f} s "
              f"({len(x) * args.epochs / dt:,.0f} examples/s, {history['devices']} device(s)); "
              f"train accuracy {history['accuracy'][-1]:.3f}; peak RSS {peak_rss_gb():.2f} GB", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
