"""jinja2 templates for generated firmware, one per output file, named <output>.j2.

Shipped as package data (tinyml.firmware_templates) so a non-editable install finds them.
"""
