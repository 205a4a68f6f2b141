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


def _run_plain(opts: CaptureOptions, port_opener, progress) -> dict:
    """Someone else's sketch: lines of numbers. Host timestamps; the rate is measured and reported."""
    port = port_opener()
    buf = bytearray()
    kept = []
    skipped = 0
    hello = Hello(0, "unknown", "plain-csv", tuple(f"a{i}" for i in range(opts.plain_axes)),
                  (opts.plain_units,) * opts.plain_axes, 0.0)
    try:
        while len(kept) < opts.count:
            _prompt(opts, len(kept) + 1, progress)
            rows, times = [], []
            start = None
            last = time.monotonic()
            began = time.monotonic()
            while start is None or time.monotonic() - start < opts.seconds:
                if start is None and time.monotonic() - began > opts.no_sample_limit:
                    raise TinyMLError(f"no usable line in {opts.no_sample_limit:.0f} s although data arrives: "
                                      f"{skipped} lines were not {opts.plain_axes} numbers; check --plain-axes "
                                      f"and the sketch's output; {len(kept)} samples kept")
                try:
                    data = port.read(4096)
                except Exception:
                    raise TinyMLError(f"board disconnected; {len(kept)} samples kept") from None
                if data:
                    last = time.monotonic()
                elif time.monotonic() - last > opts.data_timeout:
                    raise TinyMLError(f"no data for {opts.data_timeout:g} s; {len(kept)} samples kept")
                buf += data
                if len(buf) > 65536:
                    buf.clear()
                while b"\n" in buf:
                    line, _, rest = bytes(buf).partition(b"\n")
                    buf[:] = rest
                    if not _NUMBERS.match(line):
                        skipped += 1
                        continue
                    values = [float(v) for v in re.split(rb"[,\t ]+", line.strip())]
                    if len(values) != opts.plain_axes:
                        skipped += 1
                        continue
                    now = time.monotonic()
                    start = now if start is None else start
                    rows.append(values)
                    times.append(int((now - start) * 1e6))
            span = (times[-1] - times[0]) * 1e-6 if len(times) > 1 else 0.0
            rate = (len(times) - 1) / span if span > 0 else 0.0
            sample = Sample("motion", np.asarray(times), np.asarray(rows), rate)
            kept.append(write_sample(opts.out_dir, sample, hello, opts.label, opts.person))
            progress(f"sample {len(kept)}/{opts.count}: {len(rows)} rows, rate measured on the host {rate:.1f} Hz; "
                     f"{skipped} lines skipped")
    except KeyboardInterrupt:
        progress(f"stopped by Ctrl-C: {len(kept)} samples kept")
    finally:
        port.close()
    return {"kept": len(kept), "files": [str(p) for p in kept], "skipped_lines": skipped}
