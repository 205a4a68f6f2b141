"""A simulated capture board on a pty, speaking the protocol through the same encoder.

Faults are switched on per test: bit flips and garbage, a reset mid-stream, a pulled cable,
a line that never ends, a silent board, and a board at the wrong baud (noise only).
"""

from __future__ import annotations

import os
import select
import threading
import time

import numpy as np

from tinyml.capture.protocol import Hello, Parser, encode, encode_audio, encode_hello, encode_sample


class PtyDevice:
    """A device behind a pty whose slave end is reached through a stable symlink (`path`), so a
    replug (a new pty) keeps the path the host opens."""

    def _make_link(self, kind: str) -> None:
        self.link = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"{kind}-{os.getpid()}-{id(self)}")

    def _open_pty(self):
        import tty

        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        tmp = self.link + ".new"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(os.ttyname(self.slave), tmp)
        os.replace(tmp, self.link)

    @property
    def path(self) -> str:
        return self.link

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _close_pty(self):
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass
        if os.path.lexists(self.link):
            os.unlink(self.link)


class SimBoard(PtyDevice):
    def __init__(self, kind="motion", rate_hz=100.0, seed=0, bitflip=0.0, garbage=0.0, reset_after_rows=None,
                 unplug_after_rows=None, endless_line_after_rows=None, silent=False, wrong_baud=False,
                 frame=256, speed=4.0, announce_rate=None, extra_values=0, backwards=False, odd_frames=0.0):
        self.kind = kind
        self.rate = rate_hz
        self.extra_values, self.backwards, self.odd_frames = extra_values, backwards, odd_frames
        self.rng = np.random.default_rng(seed)
        self.bitflip, self.garbage = bitflip, garbage
        self.reset_after, self.unplug_after, self.endless_after = reset_after_rows, unplug_after_rows, endless_line_after_rows
        self.silent, self.wrong_baud = silent, wrong_baud
        self.frame = frame
        self.speed = speed  # simulated time runs this much faster than wall time
        axes = ("ax", "ay", "az") if kind == "motion" else ("mic",)
        units = ("g",) * 3 if kind == "motion" else ("pcm16",)
        self.hello = Hello(1, "nano33ble_sense_rev2", "BMI270" if kind == "motion" else "PDM", axes, units,
                           rate_hz if announce_rate is None else announce_rate)
        self._make_link("simboard")
        self.rows_sent = 0
        self.stops_received = 0
        self.unplugged = threading.Event()
        self.stop_flag = threading.Event()
        self._open_pty()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def replug(self):
        """The cable comes back: a new pty behind the same path, the board boots again."""
        self._open_pty()
        self.unplugged.clear()

    def close(self):
        self.stop_flag.set()
        self.thread.join(timeout=2)
        self._close_pty()

    def _write(self, data: bytes):
        if self.bitflip and self.rng.random() < self.bitflip:
            b = bytearray(data)
            i = int(self.rng.integers(len(b) - 1))
            b[i] ^= 1 << int(self.rng.integers(7))
            data = bytes(b)
        if self.garbage and self.rng.random() < self.garbage:
            data = bytes(self.rng.integers(0, 256, size=int(self.rng.integers(1, 40)), dtype=np.uint8)) + data
        try:
            os.write(self.master, data)
        except OSError:
            pass

    def _run(self):
        parser = Parser()
        recording = False
        seq = 0
        t_us = 0
        booted = False
        wall = time.monotonic()
        while not self.stop_flag.is_set():
            if self.unplugged.is_set():
                time.sleep(0.02)
                if not self.unplugged.is_set():
                    booted, recording, seq, t_us = False, False, 0, 0
                continue
            r, _, _ = select.select([self.master], [], [], 0.005)
            if r:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    data = b""
                for msg in parser.feed(data):
                    kind = getattr(msg, "kind", None)
                    if kind == "HELLO?" and not self.silent and not self.wrong_baud:
                        self._write(encode_hello(self.hello))
                    elif kind == "START":
                        recording = True
                        self._write(encode("REC", 1))
                    elif kind == "STOP":
                        recording = False
                        self.stops_received += 1
                        self._write(encode("REC", 0))
            if self.wrong_baud:
                self._write(bytes(self.rng.integers(0, 256, 64, dtype=np.uint8)))
                time.sleep(0.01)
                continue
            if not booted and not self.silent:
                self._write(encode_hello(self.hello))
                booted = True
            if not recording:
                wall = time.monotonic()
                continue
            # emit what the simulated clock owes
            step = 1e6 / self.rate * (self.frame if self.kind == "audio" else 1)
            due = (time.monotonic() - wall) * 1e6 * self.speed
            while due >= step and recording:
                due -= step
                wall += step / 1e6 / self.speed
                if self.kind == "motion":
                    values = self.rng.normal(0, 0.3, 3 + self.extra_values) + np.r_[0, 0, 1.0, [0] * self.extra_values]
                    self._write(encode_sample(seq, t_us, values))
                elif self.odd_frames and self.rng.random() < self.odd_frames:  # CRC-valid but empty or torn
                    import base64

                    payload = b"" if self.rng.random() < 0.5 else b"\x01\x02\x03"
                    self._write(encode("A", seq, t_us, base64.b64encode(payload).decode()))
                else:
                    self._write(encode_audio(seq, t_us, self.rng.integers(-2000, 2000, self.frame)))
                seq += 1
                self.rows_sent += 1
                t_us += int(step + self.rng.integers(-20, 21)) * (-1 if self.backwards else 1)
                if self.endless_after is not None and self.rows_sent == self.endless_after:
                    self._write(b"$S," + b"9" * 20000)  # no newline for a long while
                if self.reset_after is not None and self.rows_sent == self.reset_after:
                    self.reset_after = None
                    seq, t_us, recording = 0, 0, False
                    self._write(b"\x00\xff garbage at boot\r\n" + encode_hello(self.hello))
                if self.unplug_after is not None and self.rows_sent == self.unplug_after:
                    self.unplug_after = None
                    self.unplugged.set()
                    for fd in (self.master, self.slave):
                        try:
                            os.close(fd)
                        except OSError:  # close() may have raced us at the end of a run
                            pass
                    break


class PlainBoard(PtyDevice):
    """Someone else's sketch on a pty, like Arduino's IMU_Capture: a column header at boot, then for
    each gesture `rows` lines of numbers and a blank line, silence between gestures. Optionally a
    junk line inside gestures, and a pulled cable (with replug) after some gestures."""

    def __init__(self, rows=119, rate_hz=500.0, gap_s=0.3, axes=6, junk_every=0, unplug_after=None,
                 replug_after_s=0.5, header=b"aX,aY,aZ,gX,gY,gZ", repeat_header=False, marks=True):
        self.rows, self.rate, self.gap, self.axes = rows, rate_hz, gap_s, axes
        self.junk_every, self.unplug_after, self.replug_after = junk_every, unplug_after, replug_after_s
        self.header, self.repeat_header, self.marks = header, repeat_header, marks
        self._make_link("plainboard")
        self.gestures_sent = 0
        self.stop_flag = threading.Event()
        # like IMU_Capture's `while (!Serial);`: print nothing until the host has the port open
        # (opening a port flushes what came before, so a sketch that talks first loses its header)
        self.host_ready = threading.Event()
        self._open_pty()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _write(self, data: bytes) -> bool:
        try:
            os.write(self.master, data)
            return True
        except OSError:
            return False

    def opener(self, baud: int = 115200):
        """A port opener for run_capture that tells the board the host is listening."""
        from tinyml.capture.port import open_port

        port = open_port(self.path, baud)
        self.host_ready.set()
        return port

    def _run(self):
        rng = np.random.default_rng(0)
        self.host_ready.wait(10)
        self._write(self.header + b"\r\n")
        while not self.stop_flag.is_set():
            for i in range(self.rows):
                if self.stop_flag.is_set():
                    return
                values = rng.normal(0, 0.5, self.axes)
                self._write((",".join(f"{v:.3f}" for v in values) + "\r\n").encode())
                if self.junk_every and i % self.junk_every == self.junk_every - 1:
                    self._write(b"IMU ready?\r\n")
                time.sleep(1.0 / self.rate)
                if self.unplug_after is not None and self.gestures_sent == self.unplug_after and i == self.rows // 2:
                    self.unplug_after = None
                    self.host_ready.clear()
                    for fd in (self.master, self.slave):
                        os.close(fd)
                    time.sleep(self.replug_after)
                    self._open_pty()
                    self.host_ready.wait(10)
                    self._write(self.header + b"\r\n")
                    break
            else:
                if self.marks:
                    self._write(self.header + b"\r\n" if self.repeat_header else b"\r\n")
                self.gestures_sent += 1
            time.sleep(self.gap)

    def close(self):
        self.stop_flag.set()
        self.thread.join(timeout=3)
        self._close_pty()
