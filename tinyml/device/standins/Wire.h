// Stand-in for the Arduino Wire library: the TFLM library includes it; no sketch uses I2C here.
#pragma once
#include <Arduino.h>
class TwoWire {
 public:
  void begin() {}
  void end() {}
};
extern TwoWire Wire;
