// Shared declaration of the IMU stand-ins: readings (g and deg/s) with device timestamps
// (microseconds) read from the host's imu.txt, one reading per line: t_us ax ay az gx gy gz.
#pragma once
class EmulatedImu {
 public:
  int begin();
  void end() {}
  int readAcceleration(float& x, float& y, float& z);
  int accelerationAvailable();
  float accelerationSampleRate();
  int readGyroscope(float& x, float& y, float& z);
  int gyroscopeAvailable();
  float gyroscopeSampleRate();
};
