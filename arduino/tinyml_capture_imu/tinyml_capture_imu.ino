// tinyml capture: IMU (accelerometer in g, gyroscope in deg/s) for the Nano 33 BLE Sense.
// Rev1 (LSM9DS1) by default; compile for the Rev2 (BMI270 + BMM150) with
//   arduino-cli compile --fqbn arduino:mbed_nano:nano33ble --build-property "build.extra_flags=-DTINYML_REV2" ...
// Libraries: Arduino_LSM9DS1 (Rev1) or Arduino_BMI270_BMM150 (Rev2), and TinymlCapture from arduino/libraries.
// Protocol: docs/capture_protocol.md. Record with: tinyml capture --task magic_wand --label wing
#include <TinymlCapture.h>
#ifdef TINYML_REV2
#include <Arduino_BMI270_BMM150.h>
static const char kBoard[] = "nano33ble_sense_rev2";
static const char kSensor[] = "BMI270";
#else
#include <Arduino_LSM9DS1.h>
static const char kBoard[] = "nano33ble_sense";
static const char kSensor[] = "LSM9DS1";
#endif

using namespace tinyml_capture;

static Commands commands;
static bool recording = false;
static unsigned long seq = 0;
static float rate_hz = 0;

static void Hello() { SendHello(Serial, kBoard, kSensor, "ax;ay;az;gx;gy;gz", "g;g;g;dps;dps;dps", rate_hz); }

void setup() {
  Serial.begin(115200);  // USB CDC: the baud rate is nominal, throughput is USB speed
  while (!Serial) {
  }
  if (!IMU.begin()) {
    Line err("ERR");
    err.AddText("IMU not found");
    err.Send(Serial);
    while (true) delay(1000);
  }
  rate_hz = IMU.accelerationSampleRate();
  Hello();
}

void loop() {
  if (HandleCommands(Serial, commands, recording, Hello) == 'S') {
    seq = 0;
  }
  if (!recording || !IMU.accelerationAvailable() || !IMU.gyroscopeAvailable()) return;
  float ax, ay, az, gx, gy, gz;
  IMU.readAcceleration(ax, ay, az);
  IMU.readGyroscope(gx, gy, gz);
  Line line("S");
  line.AddUnsigned(seq++);
  line.AddUnsigned(micros());
  line.AddFloat(ax);
  line.AddFloat(ay);
  line.AddFloat(az);
  line.AddFloat(gx);
  line.AddFloat(gy);
  line.AddFloat(gz);
  line.Send(Serial);
}
