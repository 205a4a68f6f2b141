// Shim of Arduino_LSM9DS1 (Nano 33 BLE Sense Rev1 IMU): accelerometer in g, gyroscope in deg/s.
#pragma once
class LSM9DS1Class {
 public:
  int begin();
  void end();
  int readAcceleration(float& x, float& y, float& z);
  int accelerationAvailable();
  float accelerationSampleRate();
  int readGyroscope(float& x, float& y, float& z);
  int gyroscopeAvailable();
  float gyroscopeSampleRate();
};
extern LSM9DS1Class IMU;
