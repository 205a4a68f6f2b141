"""The hand-written capture sketches compile against the shim, and their CRC matches the host's."""

import subprocess

import pytest

from conftest import REPO, SHIM, STANDINS, gxx
from tinyml.capture.protocol import crc16

SKETCHES = ["tinyml_capture_imu", "tinyml_capture_mic", "tinyml_capture_camera"]
LIB = REPO / "arduino" / "libraries" / "TinymlCapture" / "src"


@pytest.mark.parametrize("sketch,defines", [(s, []) for s in SKETCHES] + [("tinyml_capture_imu", ["-DTINYML_REV2"])])
def test_capture_sketch_compiles(sketch, defines):
    ino = REPO / "arduino" / sketch / f"{sketch}.ino"
    proc = subprocess.run([gxx(), "-std=c++17", "-Wall", "-Wextra", "-fsyntax-only", "-x", "c++", "-include",
                           "Arduino.h", f"-I{STANDINS}", f"-I{SHIM}", f"-I{LIB}", *defines, str(ino)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_firmware_crc_and_line_match_the_host(tmp_path):
    """Compile the library's Crc16 and Line on the host and compare with tinyml.capture.protocol."""
    from tinyml.capture.protocol import Parser, encode

    src = tmp_path / "t.cc"
    src.write_text(r'''
#include <cstdio>
#include "TinymlCapture.h"
HardwareSerial Serial;
size_t Print::write(const uint8_t* b, size_t n) { return fwrite(b, 1, n, stdout); }
size_t HardwareSerial::write(uint8_t c) { return fwrite(&c, 1, 1, stdout); }
size_t HardwareSerial::write(const uint8_t* b, size_t n) { return fwrite(b, 1, n, stdout); }
int HardwareSerial::available() { return 0; }
int HardwareSerial::read() { return -1; }
int HardwareSerial::peek() { return -1; }
int main() {
  const char* s = "S,1,2,0.5";
  printf("%04X\n", tinyml_capture::Crc16(reinterpret_cast<const uint8_t*>(s), 9));
  tinyml_capture::Line line("A"); line.AddUnsigned(7); line.AddUnsigned(123);
  const uint8_t data[5] = {1, 2, 3, 250, 255}; line.AddBase64(data, 5); line.Send(Serial);
  tinyml_capture::SendHello(Serial, "b", "s", "ax;ay", "g;g", 119.0f);
}
''')
    exe = tmp_path / "t"
    subprocess.run([gxx(), "-std=c++17", f"-I{STANDINS}", f"-I{SHIM}", f"-I{LIB}", str(src), "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], capture_output=True, check=True).stdout
    first, rest = out.split(b"\n", 1)
    assert first.decode() == f"{crc16(b'S,1,2,0.5'):04X}"
    import base64

    assert rest.split(b"\n")[0] + b"\n" == encode("A", 7, 123, base64.b64encode(bytes([1, 2, 3, 250, 255])).decode())
    msgs = Parser().feed(rest)
    assert [m.kind for m in msgs] == ["A", "HELLO"] and msgs[1].fields[-1] == "119"
