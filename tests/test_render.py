"""The one template layer: every value reaching generated C is typed (numbers as literals, text
only through c_string / c_comment / c_ident / c_header). Hostile values of every kind, put into
every slot of every task's real sketch context, are refused or stay inert, and the result compiles."""

import dataclasses
import math
import re

import pytest

from conftest import compile_sketch
from tinyml.export.pipeline import Model, load_source
from tinyml.export.render import environment
from tinyml.export.sketch import render_sketch, sketch_context
from tinyml.files import write_files
from tinyml.errors import TinyMLError
from tinyml.names import CText, c_float, c_header, c_ident, c_int, c_value
from tinyml.tasks import get_task

# Each would break out of a literal, a comment, a line or an include if pasted raw.
HOSTILE_TEXT = [
    'x"); system("rm -rf /',
    "*/ #error injected /*",
    "a\n#error injected\n",
    "a\r\n#include </etc/passwd>",
    "??/\n#error injected",
    "tail\\",
    "\u202eevil\u202c",
    "nul\x00byte",
    "<stdio.h>\n#error injected",
    "../../etc/passwd",
    "a" * 300,
]
HOSTILE_NUMBERS = [math.nan, math.inf, -math.inf, 2 ** 70, "1\n#error injected", "7"]


def test_plain_text_is_refused_by_the_template_layer():
    env = environment()
    with pytest.raises(TypeError, match="without a C form"):
        env.from_string("#define X {{ v }}").render(v="1\n#include </etc/passwd>")
    assert env.from_string("{{ v }} {{ w }} {{ b }}").render(v=3, w=0.25, b=True) == "3 0.25f true"
    assert env.from_string("{{ v | c_string }}").render(v='a"b') == '"a\\"b"'


@pytest.mark.parametrize("bad", [math.nan, math.inf, 1e39])
def test_floats_without_a_c_literal_are_refused(bad):
    with pytest.raises(ValueError):
        c_float(bad)


@pytest.mark.parametrize("fn,bad", [(c_ident, "x;y"), (c_ident, "9x"), (c_ident, ""), (c_ident, "a\nb"),
                                    (c_header, "../x.h"), (c_header, "a.h>\n#error x"), (c_header, "/etc/passwd"),
                                    (c_int, 1.5), (c_int, True), (c_int, 2 ** 70), (c_value, None), (c_value, b"x")])
def test_filters_refuse_what_they_cannot_express(fn, bad):
    with pytest.raises((TypeError, ValueError)):
        fn(bad)


def test_c_text_passes_unchanged():
    assert c_value(CText("0x01, 0x02")) == "0x01, 0x02"


# --- every slot of every task's real context -------------------------------------------------


def leaves(value, path=()):
    """(path, leaf) for every str/number inside dicts, lists, tuples and dataclasses."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, path + (k,))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from leaves(v, path + (i,))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from leaves(getattr(value, f.name), path + (f.name,))
    elif isinstance(value, (str, int, float)):
        yield path, value


def replaced(value, path, new):
    """A copy of value with the leaf at path set to new (dataclasses via replace, so frozen ones work)."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], rest, new)}
    if isinstance(value, (list, tuple)):
        items = list(value)
        items[head] = replaced(items[head], rest, new)
        return type(value)(items) if isinstance(value, list) else tuple(items)
    return dataclasses.replace(value, **{head: replaced(getattr(value, head), rest, new)})


def demo_context(quick_demo, task_name):
    source = load_source(quick_demo / "runs" / task_name)
    task = get_task(source.task)
    from tinyml import tflm
    from tinyml.boards import get_board
    from tinyml.modelinfo import read_model

    info = read_model(source.model)
    model = Model(data=source.model, info=info, arena_measured=tflm.measure_arena(source.model))
    firmware = task.firmware(source.config, info)
    labels = list(source.labels)
    return sketch_context(model, get_board("nano33ble_sense"), task_name, labels, task.name, firmware), firmware


def try_render(context, firmware):
    try:
        return render_sketch(context, firmware)
    except TinyMLError:
        return None


# comments and string/char literals, scanned left to right as a C preprocessor would
C_INERT = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)


def assert_inert(files, baseline=None):
    """Outside comments and literals, none of the hostile payloads is active code. Files the same as
    in `baseline` (already checked) are not scanned again: the model's array makes a scan slow."""
    for name, text in files.items():
        if baseline is not None and baseline.get(name) == text:
            continue
        code = C_INERT.sub(" ", text)
        assert not re.search(r"#\s*error|#\s*include\s*</etc|system\s*\(|\?\?/", code), f"{name}: injected code"
        assert not re.search(r"\b(nan|inf)f?\b", code), f"{name}: a non-finite number reached C"


@pytest.mark.slow
@pytest.mark.parametrize("task_name", ["magic_wand", "micro_speech", "person_detection"])
def test_hostile_values_in_every_slot_are_refused_or_inert_and_compile(quick_demo, task_name, tmp_path):
    context, firmware = demo_context(quick_demo, task_name)
    baseline = render_sketch(context, firmware)
    assert_inert(baseline)
    slots = list(leaves(context))
    assert len(slots) > 30
    text_slots, used_text, refused = [], [], 0
    for path, value in slots:
        kinds = HOSTILE_TEXT if isinstance(value, str) else HOSTILE_NUMBERS
        for hostile in kinds:
            files = try_render(replaced(context, path, hostile), firmware)
            if files is None:
                refused += 1
                continue
            assert_inert(files, baseline)
            if files != baseline and isinstance(value, str):
                used_text.append(path)
        if isinstance(value, str):
            text_slots.append(path)
    assert refused > 0 and used_text, "the test reached no slot the templates use"
    # every text slot that renders at all, filled with hostile text at once (rotating kinds): compiles
    for shift in range(2):
        hostile_ctx = context
        for i, path in enumerate(sorted(set(used_text), key=str)):
            attempt = replaced(hostile_ctx, path, HOSTILE_TEXT[(i + shift) % len(HOSTILE_TEXT)])
            if try_render(attempt, firmware) is not None:
                hostile_ctx = attempt
        files = render_sketch(hostile_ctx, firmware)
        assert files != baseline
        assert_inert(files, baseline)
        folder = tmp_path / f"s{shift}"
        write_files(folder, files)
        proc = compile_sketch(folder, f"{task_name}.ino")
        assert proc.returncode == 0, proc.stderr[-2000:]


def test_feature_constants_are_typed():
    from tinyml.tasks.base import FeatureConstant

    assert FeatureConstant("kX", "float", 0.5).literal == "0.5f"
    assert FeatureConstant("kX", "bool", 1).literal == "true"
    with pytest.raises(ValueError):
        FeatureConstant("kX", "float", math.nan).literal
