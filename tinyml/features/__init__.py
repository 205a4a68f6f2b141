"""Feature code: pure functions that compute exactly what the device code computes."""
