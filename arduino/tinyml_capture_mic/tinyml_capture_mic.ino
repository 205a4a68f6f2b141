// tinyml capture: PDM microphone, 16 kHz 16-bit mono, for the Nano 33 BLE Sense (Rev1 and Rev2).
// Frames of 256 samples (16 ms) go out base64-encoded: about 45 KB/s, well within USB CDC.
// Libraries: PDM (part of the mbed core) and TinymlCapture from arduino/libraries.
// Record with: tinyml capture --task micro_speech --label yes --seconds 1
#include <PDM.h>
#include <TinymlCapture.h>

using namespace tinyml_capture;

static constexpr int kRate = 16000;
static constexpr int kFrame = 256;
static Commands commands;
static bool recording = false;
static int16_t ring[kFrame * 8];
static volatile unsigned long captured = 0;  // samples written by the PDM callback
static unsigned long sent = 0;
static unsigned long seq = 0;
static int16_t pdm_buffer[512];

static void OnPdm() {
  int bytes = PDM.available();
  if (bytes > static_cast<int>(sizeof(pdm_buffer))) bytes = sizeof(pdm_buffer);
  PDM.read(pdm_buffer, bytes);
  unsigned long at = captured;
  for (int i = 0; i < bytes / 2; ++i) ring[(at + i) % (kFrame * 8)] = pdm_buffer[i];
  captured = at + bytes / 2;
}

static void Hello() { SendHello(Serial, "nano33ble_sense", "PDM", "mic", "pcm16", kRate); }

void setup() {
  Serial.begin(115200);
  while (!Serial) {
  }
  PDM.onReceive(OnPdm);
  if (!PDM.begin(1, kRate)) {
    Line err("ERR");
    err.AddText("PDM microphone failed to start");
    err.Send(Serial);
    while (true) delay(1000);
  }
  Hello();
}

void loop() {
  if (HandleCommands(Serial, commands, recording, Hello) == 'S') {
    seq = 0;
    sent = captured;
  }
  if (!recording || captured - sent < static_cast<unsigned long>(kFrame)) return;
  if (captured - sent > static_cast<unsigned long>(kFrame * 7)) {
    sent = captured - kFrame;  // the host fell behind: skip ahead; the sequence gap tells it
    ++seq;
  }
  int16_t frame[kFrame];
  for (int i = 0; i < kFrame; ++i) frame[i] = ring[(sent + i) % (kFrame * 8)];
  unsigned long t_us = static_cast<unsigned long>((static_cast<unsigned long long>(sent) * 1000000ULL) / kRate);
  sent += kFrame;
  Line line("A");
  line.AddUnsigned(seq++);
  line.AddUnsigned(t_us);
  line.AddBase64(reinterpret_cast<const uint8_t*>(frame), sizeof(frame));
  line.Send(Serial);
}
