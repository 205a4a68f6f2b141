// tinyml capture: OV7675 camera (Tiny Machine Learning Kit) on the Nano 33 BLE Sense, QCIF grayscale.
// Each frame goes out in parts of 1 KB (base64): $F,<seq>,<t_us>,<w>,<h>,<part>,<parts>,<data>.
// Libraries: Arduino_OV767X and TinymlCapture from arduino/libraries.
// Record with: tinyml capture --task person_detection --label person --count 50
#include <Arduino_OV767X.h>
#include <TinymlCapture.h>

using namespace tinyml_capture;

static Commands commands;
static bool recording = false;
static unsigned long seq = 0;
static uint8_t frame[176 * 144];
static constexpr int kPart = 1024;

static void Hello() { SendHello(Serial, "nano33ble_sense", "OV7675", "gray", "u8", 1); }

void setup() {
  Serial.begin(115200);
  while (!Serial) {
  }
  if (!Camera.begin(QCIF, GRAYSCALE, 1)) {
    Line err("ERR");
    err.AddText("OV7675 camera not found");
    err.Send(Serial);
    while (true) delay(1000);
  }
  Hello();
}

void loop() {
  HandleCommands(Serial, commands, recording, Hello);
  if (!recording) return;
  Camera.readFrame(frame);
  unsigned long t_us = micros();
  const int w = Camera.width();
  const int h = Camera.height();
  const int bytes = w * h;
  const int parts = (bytes + kPart - 1) / kPart;
  for (int p = 0; p < parts; ++p) {
    int n = bytes - p * kPart < kPart ? bytes - p * kPart : kPart;
    Line line("F");
    line.AddUnsigned(seq++);
    line.AddUnsigned(t_us);
    line.AddInt(w);
    line.AddInt(h);
    line.AddInt(p);
    line.AddInt(parts);
    line.AddBase64(frame + p * kPart, n);
    line.Send(Serial);
  }
}
