"""micro_speech's own subcommand: `tinyml make-stream`, a long test recording with known words."""

from __future__ import annotations

from pathlib import Path


def add_make_stream_arguments(s) -> None:
    s.add_argument("--data", required=True, help="folder in the Speech Commands layout")
    s.add_argument("--out", required=True, help="output .wav (ground truth goes to the .csv beside it)")
    s.add_argument("--seconds", type=float, default=600.0)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--set", action="append", metavar="KEY=VALUE", help="e.g. --set words=yes,no")


def make_stream(task, args) -> int:
    """`task` is the micro_speech task (its config and loader)."""
    from tinyml.config import apply_sets
    from tinyml.files import write_text_atomic
    from tinyml.tasks.micro_speech.data import build_stream, load_noise, write_wav

    import math

    from tinyml.errors import TinyMLError

    if not (math.isfinite(args.seconds) and 1 <= args.seconds <= 86400):
        raise TinyMLError(f"--seconds {args.seconds}: give a length from 1 s to 24 h")
    cfg = apply_sets(task.default_config(), args.set)
    clips = task.load(args.data, cfg)
    noise = load_noise(Path(args.data), cfg.frontend.sample_rate)
    audio, truth = build_stream(clips, noise, args.seconds, cfg.words, args.seed, cfg.frontend.sample_rate)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # each file is written atomically, the pair is not: the old truth goes first, so an interrupted
    # run leaves a recording without truth (which evaluate refuses) rather than with another's
    out.with_suffix(".csv").unlink(missing_ok=True)
    write_wav(out, audio, cfg.frontend.sample_rate)
    write_text_atomic(out.with_suffix(".csv"), "".join(f"{w},{t}\n" for w, t in truth))
    print(f"wrote {out} ({args.seconds:.0f} s, {len(truth)} words) and {out.with_suffix('.csv')}")
    return 0
