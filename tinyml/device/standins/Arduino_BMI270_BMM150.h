// Stand-in for Arduino_BMI270_BMM150 (Nano 33 BLE Sense Rev2 IMU), fed from a recording.
#pragma once
#include "imu_standin.h"
typedef EmulatedImu BoschSensorClass;
extern BoschSensorClass IMU;
