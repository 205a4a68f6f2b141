"""Serial ports via pyserial: discovery by USB VID/PID, opening with clear errors."""

from __future__ import annotations

from tinyml.errors import TinyMLError

# USB vendor ids of boards that run the capture sketches: Arduino (two ids), Espressif, Adafruit, SparkFun
BOARD_VIDS = {0x2341: "Arduino", 0x2A03: "Arduino", 0x303A: "Espressif", 0x239A: "Adafruit", 0x1B4F: "SparkFun"}


def list_ports() -> list[dict]:
    from serial.tools import list_ports as lp

    out = []
    for p in sorted(lp.comports(), key=lambda p: p.device):
        out.append({"device": p.device, "description": p.description or "", "vid": p.vid, "pid": p.pid,
                    "board": BOARD_VIDS.get(p.vid or -1, "")})
    return out


def find_board_port() -> str:
    boards = [p for p in list_ports() if p["board"]]
    if not boards:
        raise TinyMLError("no Arduino-compatible board found on USB; plug it in, or pass --port PATH "
                          "(`tinyml capture --list` shows the ports)")
    if len(boards) > 1:
        names = ", ".join(p["device"] for p in boards)
        raise TinyMLError(f"several boards found ({names}); pick one with --port")
    return boards[0]["device"]


def open_port(path: str, baud: int, timeout: float = 0.1):
    import serial

    import errno

    try:
        # dsrdtr/rtscts off: toggling DTR is what resets many boards; we wait the reset out anyway
        return serial.Serial(path, baudrate=baud, timeout=timeout, write_timeout=1.0)
    except (serial.SerialException, OSError, ValueError) as exc:
        if getattr(exc, "errno", None) in (errno.EACCES, errno.EPERM) or "Permission denied" in str(exc):
            raise TinyMLError(f"permission denied on {path}: add yourself to the serial group, e.g. "
                              "`sudo usermod -aG dialout $USER`, then log out and in again") from None
        reason = str(exc).split(":")[-1].strip() or type(exc).__name__
        raise TinyMLError(f"cannot open {path} ({reason}); is the board plugged in and the Serial Monitor closed?") from None
