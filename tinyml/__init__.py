"""tinyml: sensor data to full-int8 TensorFlow Lite Micro models and Arduino sketches."""

__version__ = "0.1.0"
