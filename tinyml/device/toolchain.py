"""Build a sketch for a Cortex-M4 the way the Arduino nano33ble core does, against the board's
real TFLM library (Chirale_TensorFlowLite), with the stand-ins in `standins/` for the core.

The library is compiled once per machine and cached (it takes minutes); a sketch then
compiles and links in seconds. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from tinyml.errors import TinyMLError
from tinyml.files import cache_root

GCC = "arm-none-eabi-gcc"
GXX = "arm-none-eabi-g++"
APT_PACKAGES = "gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm"

# The nano33ble core's compiler flags that change generated code (platform.txt / cflags.txt),
# plus the defines the TFLM library tests (it #errors without ARDUINO).
CPU_FLAGS = ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=softfp", "-mfpu=fpv4-sp-d16")
COMMON_FLAGS = CPU_FLAGS + (
    "-Os", "-g0", "-funsigned-char", "-ffunction-sections", "-fdata-sections",
    "-DARDUINO=10607", "-DARDUINO_ARCH_MBED", "-DARDUINO_ARDUINO_NANO33BLE", "-DTINYML_EMULATED_BOARD",
)
C_FLAGS = ("-std=gnu11",)
CXX_FLAGS = ("-std=gnu++14", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics")
LINK_FLAGS = CPU_FLAGS + ("--specs=rdimon.specs", "-nostartfiles", "-Wl,--gc-sections",
                          "-Wl,--wrap=_ZN6tflite16MicroInterpreter6InvokeEv")
SOURCE_SUFFIXES = (".c", ".cpp", ".cc", ".S")


def require_tools() -> None:
    """One line naming the packages when the cross compiler or the emulator is missing."""
    missing = [t for t in (GCC, GXX, "arm-none-eabi-size", "qemu-system-arm") if shutil.which(t) is None]
    if missing:
        raise TinyMLError(f"{', '.join(missing)} not found; install them with: apt-get install {APT_PACKAGES}")


def standins_dir() -> Path:
    return Path(str(files("tinyml.device").joinpath("standins")))


@dataclass(frozen=True)
class BoardLibrary:
    """The board's TFLM Arduino library, unpacked, with its objects built for the Cortex-M4."""

    name: str
    """`name=` from library.properties, e.g. 'Chirale_TensorFLowLite'."""
    version: str
    """`version=` from library.properties, e.g. '2.0.0'."""
    src: Path
    """The library's src/ folder (the include root Arduino uses)."""
    archive: Path
    """libtflm.a built from every source under src/, as Arduino compiles them."""


def _properties(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


def _unpack(source: Path, into: Path) -> Path:
    """The library folder (the one holding library.properties) from a .tar.gz or a folder."""
    if source.is_dir():
        root = source
    else:
        if not into.is_dir():
            tmp = into.with_name(into.name + f".tmp{os.getpid()}")
            shutil.rmtree(tmp, ignore_errors=True)
            try:
                with tarfile.open(source) as tar:
                    tar.extractall(tmp, filter="data")
            except (OSError, tarfile.TarError) as exc:
                raise TinyMLError(f"{source}: cannot unpack the TFLM library ({exc})") from None
            os.replace(tmp, into)
        root = into
    found = sorted(root.glob("library.properties")) or sorted(root.glob("*/library.properties"))
    if not found:
        raise TinyMLError(f"{source} holds no library.properties; pass the Chirale_TensorFlowLite folder or archive")
    return found[0].parent


def _fingerprint(source: Path) -> str:
    h = hashlib.sha256()
    h.update(" ".join(COMMON_FLAGS + C_FLAGS + CXX_FLAGS).encode())
    h.update((standins_dir() / "Arduino.h").read_bytes())
    if source.is_dir():
        for p in sorted(source.rglob("*")):
            if p.is_file() and p.suffix in SOURCE_SUFFIXES + (".h", ".properties"):
                h.update(str(p.relative_to(source)).encode())
                h.update(p.read_bytes())
    else:
        h.update(source.read_bytes())
    return h.hexdigest()[:16]


def _compile(src: Path, obj: Path, includes: list[Path], extra: tuple[str, ...] = ()) -> list[str]:
    """Compile one file; returns the compiler's warning lines."""
    compiler = GCC if src.suffix == ".c" else GXX
    lang = C_FLAGS if src.suffix == ".c" else CXX_FLAGS
    cmd = [compiler, *COMMON_FLAGS, *lang, *extra, *[f"-I{i}" for i in includes], "-c", str(src), "-o", str(obj)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        first = next((ln for ln in proc.stderr.splitlines() if "error" in ln), proc.stderr.strip()[:300])
        raise TinyMLError(f"compiling {src.name} for the Cortex-M4 failed: {first}")
    return [ln for ln in proc.stderr.splitlines() if "warning:" in ln]


def _jobs() -> int:
    return max(1, os.cpu_count() or 1)


def build_library(source: Path, progress=None) -> BoardLibrary:
    """Unpack and compile the library once per machine; later calls return the cached build."""
    require_tools()
    source = Path(source)
    if not source.exists():
        raise TinyMLError(f"{source} does not exist; pass the Chirale_TensorFlowLite library folder or its .tar.gz")
    key = _fingerprint(source)
    home = cache_root() / "boardlib" / key
    home.mkdir(parents=True, exist_ok=True)
    root = _unpack(source, home / "lib")
    props = _properties((root / "library.properties").read_text(errors="replace"))
    src = root / "src"
    archive = home / "libtflm.a"
    if not archive.is_file():
        sources = sorted(p for p in src.rglob("*") if p.suffix in SOURCE_SUFFIXES and p.is_file())
        objdir = home / "obj"
        objdir.mkdir(exist_ok=True)
        includes = [standins_dir(), src]
        objs = []
        with concurrent.futures.ThreadPoolExecutor(_jobs()) as pool:
            futures = {}
            for i, s in enumerate(sources):
                obj = objdir / f"{i:04d}_{s.stem}.o"
                objs.append(obj)
                if not obj.is_file():
                    futures[pool.submit(_compile, s, obj.with_suffix(".tmp.o"), includes)] = obj
            for n, fut in enumerate(concurrent.futures.as_completed(futures), 1):
                fut.result()
                obj = futures[fut]
                os.replace(obj.with_suffix(".tmp.o"), obj)
                if progress:
                    progress(n, len(futures))
        tmp = archive.with_suffix(f".tmp{os.getpid()}.a")
        subprocess.run(["arm-none-eabi-ar", "rcs", str(tmp), *map(str, objs)], check=True)
        os.replace(tmp, archive)
    return BoardLibrary(name=props.get("name", root.name), version=props.get("version", "?"), src=src, archive=archive)


@dataclass(frozen=True)
class Image:
    """A linked sketch for the emulated board."""

    elf: Path
    """The ELF file QEMU loads."""
    text: int
    """arm-none-eabi-size text (code + read-only data, the model array among them)."""
    data: int
    """Initialised RAM (also stored in flash)."""
    bss: int
    """Zeroed RAM (tensor arena, sketch buffers)."""
    warnings: tuple[str, ...] = ()
    """-Wall warnings in the sketch's own files."""

    @property
    def flash_bytes(self) -> int:
        return self.text + self.data

    @property
    def ram_bytes(self) -> int:
        return self.data + self.bss


def size_of(elf: Path) -> tuple[int, int, int]:
    out = subprocess.run(["arm-none-eabi-size", str(elf)], capture_output=True, text=True, check=True).stdout
    text, data, bss = (int(v) for v in out.splitlines()[1].split()[:3])
    return text, data, bss


def build_sketch(sketch_dir: Path, library: BoardLibrary, out_dir: Path, extra_includes: tuple[Path, ...] = (),
                 defines: tuple[str, ...] = (), harness: bool = True) -> Image:
    """Compile every source of an Arduino sketch folder (the .ino as C++) and link it with the library.

    With `harness`, the stand-in core, main loop and Invoke() probe are linked in and the
    image runs in QEMU; without, only the sketch's own objects are compiled (a build check).
    """
    sketch_dir = Path(sketch_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    inos = sorted(sketch_dir.glob("*.ino"))
    if not inos:
        raise TinyMLError(f"{sketch_dir} has no .ino file; pass a sketch folder written by `tinyml export`")
    includes = [sketch_dir, *extra_includes, standins_dir(), library.src]
    flags = ("-Wall", *[f"-D{d}" for d in defines])
    objs = []
    units = []
    for ino in inos:
        # Arduino's preprocessor adds `#include <Arduino.h>` in front of the sketch.
        unit = out_dir / f"{ino.stem}.ino.cpp"
        unit.write_text(f'#include <Arduino.h>\n#line 1 "{ino.name}"\n' + ino.read_text())
        units.append(unit)
    units += sorted(p for p in sketch_dir.iterdir() if p.suffix in (".c", ".cpp", ".cc"))
    for lib_dir in extra_includes:
        units += sorted(p for p in lib_dir.rglob("*") if p.suffix in (".c", ".cpp", ".cc"))
    if harness:
        units += [standins_dir() / "arduino_core.cpp", standins_dir() / "startup.c"]
    warnings: list[str] = []
    with concurrent.futures.ThreadPoolExecutor(_jobs()) as pool:
        futures = []
        for i, unit in enumerate(units):
            obj = out_dir / f"{i:03d}_{unit.name}.o"
            objs.append(obj)
            futures.append(pool.submit(_compile, unit, obj, includes, flags))
        for fut in futures:
            warnings += fut.result()
    if not harness:
        return Image(elf=out_dir, text=0, data=0, bss=0, warnings=tuple(warnings))
    elf = out_dir / "sketch.elf"
    cmd = [GXX, *LINK_FLAGS, f"-T{standins_dir() / 'link.ld'}", *map(str, objs), str(library.archive),
           "-lm", "-o", str(elf)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        first = next((ln for ln in proc.stderr.splitlines() if "undefined reference" in ln or "error" in ln),
                     proc.stderr.strip()[:300])
        raise TinyMLError(f"linking {sketch_dir.name} for the Cortex-M4 failed: {first}")
    return Image(elf, *size_of(elf), warnings=tuple(warnings))
