// Stand-in for Arduino_LSM9DS1 (Nano 33 BLE Sense Rev1 IMU), fed from a recording.
#pragma once
#include "imu_standin.h"
typedef EmulatedImu LSM9DS1Class;
extern LSM9DS1Class IMU;
