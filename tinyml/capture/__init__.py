"""`tinyml capture`: the protocol (pure), the serial port (pyserial), and the session driver."""
