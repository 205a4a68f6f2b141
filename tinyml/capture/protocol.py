"""The tinyml capture protocol: pure encoder and incremental parser (no I/O).

Every message is one ASCII line, NMEA-style, with a CRC so bit flips are caught:

    $<TYPE>,<field>,<field>,...*<CRC16 hex>\\n

CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) over the bytes between '$' and '*'.
Device → host:
    $HELLO,<proto>,<board>,<sensor>,<axes;...>,<units;...>,<rate_hz>     on boot and on '$HELLO?'
    $REC,<0|1>                                                           recording stopped/started
    $S,<seq>,<t_us>,<v1>,...,<vn>                                        one IMU reading
    $A,<seq>,<t_us>,<base64 little-endian int16 samples>                 one audio frame
    $F,<seq>,<t_us>,<width>,<height>,<part>,<parts>,<base64 bytes>       part of a grayscale frame
    $ERR,<text>
Host → device:  $HELLO?   $START   $STOP
Sequence numbers count messages of the session modulo 2**32, so the host sees every gap.
The same module describes the protocol for arduino/ (see docs/capture_protocol.md).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

PROTOCOL_VERSION = 1
MAX_LINE = 8192
"""Longest line accepted; longer input is dropped up to the next newline (memory stays bounded)."""
SEQ_MOD = 2**32


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE, the one the firmware computes."""
    return binascii.crc_hqx(data, 0xFFFF)


def encode(kind: str, *fields) -> bytes:
    body = ",".join([kind, *(str(f) for f in fields)]).encode("ascii")
    return b"$" + body + b"*" + f"{crc16(body):04X}".encode() + b"\n"


@dataclass(frozen=True)
class Message:
    """One valid line."""

    kind: str
    """'HELLO', 'REC', 'S', 'A', 'F', 'ERR' (or a host command)."""
    fields: tuple[str, ...]
    """Comma-separated fields after the type."""


@dataclass(frozen=True)
class Rejected:
    """A line that failed its checksum or framing; counted, never kept."""

    reason: str
    """'checksum', 'framing' or 'overlong'."""
    line: bytes
    """The first bytes of the offending line (for logs)."""


class Parser:
    """Feed arbitrary bytes; get Messages and Rejected lines. Never raises, never grows past MAX_LINE."""

    def __init__(self, max_line: int = MAX_LINE):
        self.max_line = max_line
        self.buf = bytearray()
        self.skipping = False
        self.counts = {"checksum": 0, "framing": 0, "overlong": 0}

    def feed(self, data: bytes) -> list[Message | Rejected]:
        out: list[Message | Rejected] = []
        start = 0
        while True:
            nl = data.find(b"\n", start)
            chunk = data[start:] if nl < 0 else data[start:nl]
            if self.skipping:
                if nl >= 0:
                    self.skipping = False
            elif len(self.buf) + len(chunk) > self.max_line:
                out.append(self._reject("overlong", bytes(self.buf[:40])))
                self.buf.clear()
                self.skipping = nl < 0
            else:
                self.buf += chunk
                if nl >= 0:
                    line = bytes(self.buf).rstrip(b"\r")
                    self.buf.clear()
                    if line.strip():
                        out.append(self._parse(line))
            if nl < 0:
                return out
            start = nl + 1

    def _reject(self, reason: str, line: bytes) -> Rejected:
        self.counts[reason] += 1
        return Rejected(reason, line[:40])

    def _parse(self, line: bytes) -> Message | Rejected:
        dollar = line.rfind(b"$")
        star = line.rfind(b"*")
        if dollar < 0 or star < dollar or len(line) - star != 5:
            return self._reject("framing", line)
        body = line[dollar + 1:star]
        try:
            if int(line[star + 1:], 16) != crc16(body):
                return self._reject("checksum", line)
            text = body.decode("ascii")
        except (ValueError, UnicodeDecodeError):
            return self._reject("checksum", line)
        parts = text.split(",")
        return Message(parts[0], tuple(parts[1:]))


@dataclass(frozen=True)
class Hello:
    """What the device says about itself."""

    proto: int
    """Protocol version."""
    board: str
    """Board name, e.g. 'nano33ble_sense_rev2'."""
    sensor: str
    """Sensor part, e.g. 'BMI270' or 'PDM'."""
    axes: tuple[str, ...]
    """Channel names, e.g. ('ax', 'ay', 'az')."""
    units: tuple[str, ...]
    """Units per channel, e.g. ('g', 'g', 'g')."""
    rate_hz: float
    """Nominal rate (samples/s for IMU and audio, frames/s for the camera)."""


def sensor_kind(h: "Hello") -> str:
    """What a board records, from its HELLO: 'audio' (pcm16), 'image' (u8 frames) or 'motion'."""
    if "pcm16" in h.units:
        return "audio"
    if "u8" in h.units:
        return "image"
    return "motion"


PROTOCOL_VERSION = 1
MAX_RATE_HZ = 200_000.0


def parse_hello(msg: Message) -> Hello:
    """A board's HELLO, checked: a version this host speaks, a finite rate, one unit per axis."""
    import math

    if msg.kind != "HELLO" or len(msg.fields) != 6:
        raise ValueError("not a HELLO message")
    proto, board, sensor, axes, units, rate = msg.fields
    hello = Hello(int(proto), board, sensor, tuple(axes.split(";")), tuple(units.split(";")), float(rate))
    if hello.proto != PROTOCOL_VERSION:
        raise ValueError(f"protocol version {hello.proto}; this tinyml speaks {PROTOCOL_VERSION}: update the "
                         "capture sketch or tinyml")
    if not (math.isfinite(hello.rate_hz) and 0 < hello.rate_hz <= MAX_RATE_HZ):
        raise ValueError(f"the board announces a rate of {rate} Hz")
    if len(hello.axes) != len(hello.units) or not all(hello.axes):
        raise ValueError(f"the board announces {len(hello.axes)} axes but {len(hello.units)} units")
    return hello


def encode_hello(h: Hello) -> bytes:
    return encode("HELLO", h.proto, h.board, h.sensor, ";".join(h.axes), ";".join(h.units), f"{h.rate_hz:g}")


def encode_audio(seq: int, t_us: int, samples) -> bytes:
    import numpy as np

    raw = np.asarray(samples, dtype="<i2").tobytes()
    return encode("A", seq % SEQ_MOD, t_us, base64.b64encode(raw).decode())


def decode_audio(msg: Message):
    import numpy as np

    seq, t_us, payload = int(msg.fields[0]), int(msg.fields[1]), msg.fields[2]
    return seq, t_us, np.frombuffer(base64.b64decode(payload, validate=True), dtype="<i2")


def encode_sample(seq: int, t_us: int, values) -> bytes:
    return encode("S", seq % SEQ_MOD, t_us, *(f"{v:.5g}" for v in values))


def decode_sample(msg: Message) -> tuple[int, int, list[float]]:
    return int(msg.fields[0]), int(msg.fields[1]), [float(v) for v in msg.fields[2:]]


def decode_frame_part(msg: Message):
    seq, t_us, w, h, part, parts = (int(v) for v in msg.fields[:6])
    return seq, t_us, w, h, part, parts, base64.b64decode(msg.fields[6], validate=True)
