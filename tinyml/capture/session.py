"""The capture session: handshake, start/stop, validation, atomic writes, reconnects.

I/O goes through a `port_opener(path) -> serial-like` so tests drive it with a pty.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyml.capture.protocol import Hello, Message, Parser, encode, parse_hello, sensor_kind
from tinyml.capture.recorder import Sample, SampleCollector, write_sample
from tinyml.errors import TinyMLError


@dataclass
class CaptureOptions:
    """How one capture run behaves."""

    task: str
    """Registry name of the task the samples are for (recorded in each file's header)."""
    label: str
    """Class label (validated as a safe folder name)."""
    out_dir: Path
    """Dataset folder for the task; samples go to out_dir/<label>/."""
    count: int = 10
    """Samples to record."""
    seconds: float = 2.0
    """Length of one motion/audio sample (device clock)."""
    person: str = "me"
    """Who records (goes into file names and the manifest, for speaker/recorder splits)."""
    handshake_timeout: float = 6.0
    """Seconds to wait for the board's HELLO (covers the reset when the port opens)."""
    data_timeout: float = 3.0
    """Seconds without data while recording before the board counts as stalled."""
    reconnect_timeout: float = 10.0
    """Seconds to wait for an unplugged board to come back."""
    plain: bool = False
    """Plain CSV mode for other sketches: numbers per line, rate measured on the host."""
    plain_axes: int = 3
    """Plain mode: numbers per line."""
    plain_units: str = "g"
    """Plain mode: accelerometer units."""
    countdown: int = 0
    """Seconds counted down ("3… 2… 1… go") before each sample, so a person can time a gesture or word."""
    pause: float = 0.0
    """Seconds of rest between samples (after the sample is saved, before the next countdown)."""
    sensor_kind: str = ""
    """What the task records ('motion', 'audio', 'image'); a board announcing another sensor is refused."""
    sample_timeout: float = 0.0
    """Seconds of incoming data without a finished sample before capture stops and says why
    (0: 3 × seconds + 5, at least 10)."""

    @property
    def no_sample_limit(self) -> float:
        return self.sample_timeout or max(10.0, 3 * self.seconds + 5)


class Disconnected(Exception):
    pass


class Link:
    """A port plus the parser; reads return parsed messages and count rejects."""

    def __init__(self, port):
        self.port = port
        self.parser = Parser()

    def send(self, data: bytes) -> None:
        try:
            self.port.write(data)
            self.port.flush()
        except Exception as exc:  # pyserial raises SerialException/OSError/termios errors
            raise Disconnected(str(exc)) from None

    def read(self) -> list:
        try:
            data = self.port.read(4096)
        except Exception as exc:
            raise Disconnected(str(exc)) from None
        return self.parser.feed(data)

    def close(self) -> None:
        try:
            self.port.close()
        except Exception:
            pass


def handshake(link: Link, timeout: float) -> Hello:
    deadline = time.monotonic() + timeout
    next_ask = 0.0
    heard = False
    while time.monotonic() < deadline:
        if time.monotonic() >= next_ask:
            link.send(encode("HELLO?"))
            next_ask = time.monotonic() + 0.5
        for item in link.read():
            heard = True
            if isinstance(item, Message) and item.kind == "HELLO":
                try:
                    return parse_hello(item)
                except ValueError as exc:
                    if "protocol version" in str(exc) or "announces" in str(exc):
                        raise TinyMLError(f"the board's HELLO is unusable: {exc}") from None
                    continue
        if link.parser.buf:
            heard = True
    rejected = sum(link.parser.counts.values())
    if heard or rejected:
        raise TinyMLError(f"no tinyml handshake within {timeout:g} s: the board sends data that is not the capture "
                          f"protocol ({rejected} bad lines); check --baud, or use --plain for other sketches")
    raise TinyMLError(f"the board is silent: no handshake within {timeout:g} s; upload the tinyml capture sketch "
                      "from arduino/ and check the port")


def run_capture(opts: CaptureOptions, port_opener, progress=print) -> dict:
    """Record opts.count samples; returns a summary. Partial samples are never written."""
    from tinyml.names import safe_label

    safe_label(opts.label)
    safe_label(opts.person, "person")
    if opts.plain:
        return _run_plain(opts, port_opener, progress)
    link = Link(port_opener())
    kept: list[Path] = []
    summary = {"kept": 0, "discarded": 0, "rejected_lines": 0, "resets": 0, "reconnects": 0, "files": []}
    collector = None
    try:
        hello = handshake(link, opts.handshake_timeout)
        progress(f"connected: {hello.board} {hello.sensor} ({','.join(hello.axes)}) at {hello.rate_hz:g} Hz nominal")
        collector = SampleCollector(hello, opts.seconds)
        if opts.sensor_kind and sensor_kind(hello) != opts.sensor_kind:
            raise TinyMLError(f"the board sends {sensor_kind(hello)} ({hello.sensor}) but task '{opts.task}' records "
                              f"{opts.sensor_kind}; upload the matching capture sketch from arduino/")
        stalls = 0
        stale = False  # after STOP: data until the board's $REC acknowledgement belongs to no sample
        while len(kept) < opts.count:
            try:
                _prompt(opts, len(kept) + 1, progress)
                collector.reset()
                link.send(encode("START"))
                last_data = started = time.monotonic()
                warned = False
                sample = None
                while sample is None:
                    items = link.read()
                    if items:
                        last_data = time.monotonic()
                    for item in items:
                        if not isinstance(item, Message):
                            continue
                        if item.kind == "HELLO":  # the board reset: it is no longer recording
                            stale = False
                            collector.feed(item)
                            link.send(encode("START"))
                            continue
                        if item.kind == "REC":
                            stale = False
                            continue
                        if stale or sample is not None:  # rows past the end of a finished sample
                            collector.stats.stale_rows += 1
                            continue
                        sample = collector.feed(item)
                    waited = time.monotonic() - started
                    if sample is None and waited > opts.no_sample_limit:
                        raise TinyMLError(f"no sample formed in {waited:.0f} s although the board sends data: "
                                          f"{_why_no_sample(collector, link)}; {len(kept)} samples kept")
                    if sample is None and not warned and waited > opts.no_sample_limit / 2:
                        progress(f"no sample yet after {waited:.0f} s: {_why_no_sample(collector, link)}")
                        warned = True
                    if sample is None and time.monotonic() - last_data > opts.data_timeout:
                        collector.discard("stalled")
                        stalls += 1
                        if stalls >= 3:
                            raise TinyMLError(f"the board stopped sending data; {len(kept)} samples kept in "
                                              f"{opts.out_dir / opts.label}")
                        link.send(encode("START"))
                        last_data = time.monotonic()
                link.send(encode("STOP"))
                stale = True
                stalls = 0
                path = write_sample(opts.out_dir, sample, hello, opts.label, opts.person)
                kept.append(path)
                st = collector.stats
                progress(f"sample {len(kept)}/{opts.count}: {_describe(sample)}, {sample.rate_hz:.1f} Hz; "
                         f"discarded {st.samples_discarded}, gaps {st.gaps}, "
                         f"bad lines {sum(link.parser.counts.values())}")
                if opts.pause > 0 and len(kept) < opts.count:
                    time.sleep(opts.pause)
            except Disconnected:
                stale = False
                collector.discard("disconnected")
                link.close()
                progress("board disconnected: partial sample discarded; waiting for it to come back…")
                link = _reconnect(port_opener, opts.reconnect_timeout, len(kept), opts)
                summary["reconnects"] += 1
                hello2 = handshake(link, opts.handshake_timeout)
                if (hello2.axes, hello2.rate_hz, hello2.sensor) != (hello.axes, hello.rate_hz, hello.sensor):
                    raise TinyMLError("a different board or sketch came back; start a new capture")
    except KeyboardInterrupt:
        if collector is not None:
            collector.discard("interrupted")
        try:
            link.send(encode("STOP"))
        except Disconnected:
            pass
        progress(f"stopped by Ctrl-C: {len(kept)} samples kept")
        summary["interrupted"] = True
    finally:
        link.close()
        if collector is not None:
            summary["discarded"] = collector.stats.samples_discarded
            summary["resets"] = collector.stats.resets
            summary["reasons"] = collector.stats.reasons
            summary["stale_rows"] = collector.stats.stale_rows
        summary["rejected_lines"] = sum(link.parser.counts.values())
        summary["kept"] = len(kept)
        summary["files"] = [str(p) for p in kept]
    return summary


def _why_no_sample(collector: SampleCollector, link: Link) -> str:
    """The commonest reasons messages are not becoming a sample, for people."""
    reasons = [f"{what} ({n}x)" for what, n in collector.stats.problems.most_common(2) if what != "stalled"]
    rejected = {k: v for k, v in link.parser.counts.items() if v}
    if rejected:
        reasons.append("lines rejected: " + ", ".join(f"{n} {k}" for k, n in rejected.items()))
    if not reasons:
        reasons.append(f"{collector.stats.rows_seen} valid rows so far, too few for a "
                       f"{collector.seconds:g} s sample at the announced {collector.hello.rate_hz:g} Hz")
    return "; ".join(reasons)


def _prompt(opts: CaptureOptions, number: int, progress) -> None:
    """Tell the person when recording starts: a countdown, then "go"."""
    if opts.countdown <= 0:
        return
    progress(f"sample {number}/{opts.count} '{opts.label}': get ready…")
    for left in range(opts.countdown, 0, -1):
        progress(f"  {left}…")
        time.sleep(1.0)
    progress(f"  go! ({opts.seconds:g} s)")


def _describe(sample: Sample) -> str:
    if sample.kind == "audio":
        return f"{len(sample.data)} audio samples"
    if sample.kind == "image":
        return f"{sample.data.shape[1]}x{sample.data.shape[0]} frame"
    return f"{len(sample.data)} rows"


def _reconnect(port_opener, timeout: float, kept: int, opts: CaptureOptions) -> Link:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return Link(port_opener())
        except TinyMLError:
            time.sleep(0.2)
    raise TinyMLError(f"the board did not come back within {timeout:g} s; {kept} samples kept in "
                      f"{opts.out_dir / opts.label}; reconnect it and run the command again")


_NUMBERS = re.compile(rb"^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?([,\t ]+-?\d+(\.\d+)?([eE][-+]?\d+)?)*\s*$")
PLAIN_MIN_ROWS = 5
"""A marked gesture shorter than this is noise (e.g. a blank line right after the header)."""


class PlainSplitter:
    """Lines of someone else's sketch → samples. Pure: lines and host times in, samples out.

    Sketches like Arduino's IMU_Capture mark where a gesture ends (a blank line, or the column
    header printed again); others stream without pause. The start decides which: a mark makes
    every sample one marked gesture, whatever its length; rows flowing for `confirm` seconds with
    no mark make samples `seconds` long (the rows held meanwhile are cut into samples then), so a
    gesture longer than --seconds is never cut in two."""

    def __init__(self, axes: int, seconds: float):
        self.axes, self.seconds = axes, seconds
        self.confirm = max(2 * seconds, seconds + 3.0)
        self.rows: list[list[float]] = []
        self.times: list[float] = []
        self.header: bytes | None = None
        self.mode: str | None = None  # "marks" or "time" once known
        self.skipped = 0
        self.discarded = 0

    @property
    def marks_seen(self) -> bool:
        return self.mode == "marks"

    @property
    def collecting(self) -> bool:
        return bool(self.rows)

    def reset(self) -> None:
        """The link broke: what was under way is gone."""
        if self.rows:
            self.discarded += 1
        self.rows, self.times = [], []

    def _sample(self, times: list, rows: list) -> list:
        if len(rows) < PLAIN_MIN_ROWS:
            self.discarded += bool(rows)
            return []
        return [(np.asarray(times), np.asarray(rows))]

    def _time_cuts(self) -> list:
        """Every complete `seconds` of the rows held, oldest first; the rest stays."""
        out = []
        while self.times and self.times[-1] - self.times[0] >= self.seconds:
            end = next(i for i, t in enumerate(self.times) if t - self.times[0] >= self.seconds) + 1
            out += self._sample(self.times[:end], self.rows[:end])
            self.times, self.rows = self.times[end:], self.rows[end:]
        return out

    def feed(self, line: bytes, now: float) -> list:
        """One line (without its newline) at host time `now` (s) → finished (times, rows) samples."""
        text = line.strip()
        if not text or (self.header is not None and text == self.header):
            if self.mode == "time" or not self.rows:
                return []
            self.mode = "marks"
            times, rows = self.times, self.rows
            self.rows, self.times = [], []
            return self._sample(times, rows)
        if not _NUMBERS.match(text):
            if self.header is None and not self.rows and b"," in text:
                self.header = text  # the column header the sketch prints first
            else:
                self.skipped += 1
            return []
        values = [float(v) for v in re.split(rb"[,\t ]+", text)]
        if len(values) != self.axes:
            self.skipped += 1
            return []
        self.rows.append(values)
        self.times.append(now)
        if self.mode is None and now - self.times[0] >= self.confirm:
            self.mode = "time"
        return self._time_cuts() if self.mode == "time" else []


def _run_plain(opts: CaptureOptions, port_opener, progress) -> dict:
    """Someone else's sketch: lines of numbers. Host timestamps; the rate is measured and reported.
    A pulled cable drops the partial sample and waits for the board like protocol mode."""
    port = port_opener()
    buf = bytearray()
    kept = []
    reconnects = 0
    split = PlainSplitter(opts.plain_axes, opts.seconds)
    hello = Hello(0, "unknown", "plain-csv", tuple(f"a{i}" for i in range(opts.plain_axes)),
                  (opts.plain_units,) * opts.plain_axes, 0.0)
    summary = {"interrupted": False}
    ready: list = []
    try:
        while len(kept) < opts.count:
            _prompt(opts, len(kept) + 1, progress)
            last = began = time.monotonic()
            skipped0 = split.skipped
            while not ready:
                # silence is normal while a person gets ready, and between gestures of a sketch that
                # marks them; a continuous sketch that goes quiet after a sample has stopped
                quiet_limit = max(opts.no_sample_limit, 60.0) if split.marks_seen else \
                    (opts.data_timeout if kept else max(opts.data_timeout, opts.no_sample_limit))
                if not split.collecting and split.skipped > skipped0 and time.monotonic() - began > opts.no_sample_limit:
                    raise TinyMLError(f"no usable line in {opts.no_sample_limit:.0f} s although data arrives: "
                                      f"{split.skipped} lines were not {opts.plain_axes} numbers; check --plain-axes "
                                      f"and the sketch's output; {len(kept)} samples kept")
                try:
                    data = port.read(4096)
                except Exception:
                    try:
                        port.close()
                    except Exception:  # noqa: BLE001  (already gone)
                        pass
                    split.reset()
                    buf.clear()
                    progress("board disconnected: partial sample discarded; waiting for it to come back…")
                    port = _reconnect(port_opener, opts.reconnect_timeout, len(kept), opts).port
                    reconnects += 1
                    last = began = time.monotonic()
                    continue
                if data:
                    last = time.monotonic()
                elif time.monotonic() - last > quiet_limit:
                    raise TinyMLError(f"no data for {quiet_limit:g} s; {len(kept)} samples kept")
                buf += data
                if len(buf) > 65536:  # a line that never ends
                    buf.clear()
                    split.skipped += 1
                while b"\n" in buf and not ready:
                    line, _, rest = bytes(buf).partition(b"\n")
                    buf[:] = rest
                    ready += split.feed(line, time.monotonic())
            while ready and len(kept) < opts.count:
                times, rows = ready.pop(0)
                t_us = ((times - times[0]) * 1e6).astype(np.int64)
                span = (t_us[-1] - t_us[0]) * 1e-6 if len(t_us) > 1 else 0.0
                rate = (len(t_us) - 1) / span if span > 0 else 0.0
                sample = Sample("motion", t_us, rows, rate)
                kept.append(write_sample(opts.out_dir, sample, hello, opts.label, opts.person))
                how = "marked by the sketch" if split.marks_seen else f"{opts.seconds:g} s"
                progress(f"sample {len(kept)}/{opts.count}: {len(rows)} rows ({how}), rate measured on the host "
                         f"{rate:.1f} Hz; {split.skipped} lines skipped")
    except KeyboardInterrupt:
        progress(f"stopped by Ctrl-C: {len(kept)} samples kept")
        summary["interrupted"] = True
    finally:
        port.close()
    summary.update(kept=len(kept), files=[str(p) for p in kept], rejected_lines=split.skipped,
                   skipped_lines=split.skipped, discarded=split.discarded, reconnects=reconnects,
                   marked=split.marks_seen)
    return summary
