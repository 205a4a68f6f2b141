// Stand-in for the mbed core's PDM library: 16-bit mono audio read from the host's mic.raw.
#pragma once
class PDMClass {
 public:
  int begin(int channels, int sampleRate);
  void end();
  int available();
  int read(void* buffer, int size);
  void onReceive(void (*function)(void));
  void setGain(int gain);
  void setBufferSize(int bufferSize);
};
extern PDMClass PDM;
