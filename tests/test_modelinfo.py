import pytest

from fixtures import tiny_model
from tinyml.errors import ModelError
from tinyml.modelinfo import read_model


def test_reads_ops_tensors_and_quantization():
    info = read_model(tiny_model())
    assert info.op_names == ["FULLY_CONNECTED", "SOFTMAX"]
    assert info.inputs[0].shape == (1, 4) and info.inputs[0].dtype == "int8"
    assert info.inputs[0].scale == pytest.approx(0.05) and info.inputs[0].zero_point == -3
    assert info.outputs[0].zero_point == -128
    assert info.macs == 3 * 4
    assert info.is_full_int8()


def test_float_model_is_refused_with_one_line():
    info = read_model(tiny_model("float"))
    with pytest.raises(ModelError) as exc:
        info.require_full_int8()
    assert "float32 input" in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize("data", [b"", b"hello world, not a model", b"\x00" * 64])
def test_not_a_flatbuffer(data):
    with pytest.raises(ModelError, match="not a TensorFlow Lite model"):
        read_model(data)


@pytest.mark.parametrize("cut", [12, 100, 400])
def test_truncated_model(cut):
    with pytest.raises(ModelError, match="damaged or truncated"):
        read_model(tiny_model()[:cut])


def test_reference_models(reference_models):
    ms = read_model((reference_models / "micro_speech_quantized.tflite").read_bytes())
    assert ms.op_names == ["DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "RESHAPE", "SOFTMAX"]
    assert ms.flash_bytes == 18800 and ms.is_full_int8()
    pd = read_model((reference_models / "person_detect.tflite").read_bytes())
    assert pd.op_names == ["AVERAGE_POOL_2D", "CONV_2D", "DEPTHWISE_CONV_2D", "RESHAPE", "SOFTMAX"]
    assert pd.inputs[0].shape == (1, 96, 96, 1)
    # MobileNet v1 0.25 at 96x96 is about 7 M MACs
    assert 6_000_000 < pd.macs < 8_000_000
    wand = read_model((reference_models / "magic_wand_legacy_float_io.tflite").read_bytes())
    assert not wand.is_full_int8()
