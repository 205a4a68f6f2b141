// Shim of Arduino_BMI270_BMM150 (Nano 33 BLE Sense Rev2 IMU): same reading API as LSM9DS1.
#pragma once
class BoschSensorClass {
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
extern BoschSensorClass IMU;
