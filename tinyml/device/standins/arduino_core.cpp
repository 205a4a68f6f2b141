// Definitions behind the stand-in headers, the Arduino main loop, and the probe that records
// every Invoke() of the sketch's interpreter. Inputs come from files the host wrote into the
// emulator's working folder; nothing here is compiled into a real board's firmware.
//
//   serial_in.txt  bytes the sketch reads from Serial
//   mic.raw        int16 little-endian mono audio at the rate PDM.begin() asks for
//   imu.bin        records {uint32 t_us; float ax, ay, az, gx, gy, gz}
//   camera.raw     uint8 grayscale QCIF frames (176x144), one after another
//   invokes.bin    written: per Invoke(), timer ticks, input bytes and output bytes
#include <Arduino.h>
#include <Arduino_OV767X.h>
#include <PDM.h>
#include <Wire.h>

#include "imu_standin.h"
#include "tensorflow/lite/micro/micro_interpreter.h"

HardwareSerial Serial;
TwoWire Wire;
PDMClass PDM;
OV767X Camera;
EmulatedImu IMU;

namespace {
uint64_t clock_us = 0;  // virtual time, moved forward by the recorded data

FILE* Open(const char* name, const char* mode) { return fopen(name, mode); }

long FileSize(FILE* f) {
  if (f == nullptr) return 0;
  long at = ftell(f);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, at, SEEK_SET);
  return size;
}

struct Source {
  FILE* file = nullptr;
  long size = 0;
  long pos = 0;
  bool active = false;
  bool Open(const char* name) {
    file = ::Open(name, "rb");
    size = FileSize(file);
    pos = 0;
    return file != nullptr;
  }
  long Left() const { return size - pos; }
  size_t Read(void* dst, size_t n) {
    size_t got = file ? fread(dst, 1, n, file) : 0;
    pos += static_cast<long>(got);
    return got;
  }
};

Source serial_in, mic, imu, camera;

// PDM: the callback gets one block of samples per pump, as the nRF52 PDM driver delivers them.
constexpr int kPdmBlockBytes = 512;
void (*pdm_callback)(void) = nullptr;
uint8_t pdm_block[kPdmBlockBytes];
int pdm_block_bytes = 0;
int pdm_rate = 16000;

struct ImuRecord {
  uint32_t t_us;
  float v[6];
};
ImuRecord imu_now;
constexpr int kCameraWidth = 176;
constexpr int kCameraHeight = 144;

FILE* invokes = nullptr;

// CMSDK APB timer 0 of mps2-an386: a 32-bit down-counter on the 25 MHz system clock. Under
// QEMU's -icount shift=0 every instruction takes 1 ns of virtual time, so 1 tick = 40 instructions.
volatile uint32_t* const kTimer = reinterpret_cast<volatile uint32_t*>(0x40000000);
void TimerStart() {
  kTimer[2] = 0xFFFFFFFFu;  // RELOAD
  kTimer[1] = 0xFFFFFFFFu;  // VALUE
  kTimer[0] = 1u;           // CTRL: enable
}
uint32_t TimerNow() { return kTimer[1]; }

void WriteU32(FILE* f, uint32_t v) { fwrite(&v, 4, 1, f); }
}  // namespace

// ---- core ----
unsigned long micros(void) { return static_cast<unsigned long>(static_cast<uint32_t>(clock_us)); }
unsigned long millis(void) { return static_cast<unsigned long>(clock_us / 1000u); }
void delay(unsigned long ms) { clock_us += static_cast<uint64_t>(ms) * 1000u; }
void delayMicroseconds(unsigned int us) { clock_us += us; }
void pinMode(uint8_t, uint8_t) {}
void digitalWrite(uint8_t, uint8_t) {}
int digitalRead(uint8_t) { return 0; }

namespace arduino {
size_t Print::write(const uint8_t* buffer, size_t size) {
  size_t n = 0;
  while (size--) n += write(*buffer++);
  return n;
}

size_t Print::printNumber(unsigned long long n, int base) {
  char buf[8 * sizeof(n) + 1];
  char* str = &buf[sizeof(buf) - 1];
  *str = '\0';
  if (base < 2) base = 10;
  do {
    int digit = static_cast<int>(n % base);
    n /= base;
    *--str = static_cast<char>(digit < 10 ? digit + '0' : digit + 'A' - 10);
  } while (n);
  return write(str);
}

size_t Print::print(long n, int base) {
  if (base == 10 && n < 0) return print('-') + printNumber(static_cast<unsigned long long>(-(long long)n), 10);
  return printNumber(static_cast<unsigned long>(n), base);
}
size_t Print::print(unsigned long n, int base) { return printNumber(n, base); }
size_t Print::print(long long n, int base) {
  if (base == 10 && n < 0) return print('-') + printNumber(static_cast<unsigned long long>(-n), 10);
  return printNumber(static_cast<unsigned long long>(n), base);
}
size_t Print::print(unsigned long long n, int base) { return printNumber(n, base); }

// The core's printFloat: round half up at the last digit, then print digit by digit.
size_t Print::print(double number, int digits) {
  if (isnan(number)) return print("nan");
  if (isinf(number)) return print("inf");
  if (number > 4294967040.0 || number < -4294967040.0) return print("ovf");
  size_t n = 0;
  if (number < 0.0) {
    n += print('-');
    number = -number;
  }
  double rounding = 0.5;
  for (int i = 0; i < digits; ++i) rounding /= 10.0;
  number += rounding;
  unsigned long int_part = static_cast<unsigned long>(number);
  double remainder = number - static_cast<double>(int_part);
  n += print(int_part);
  if (digits > 0) n += print('.');
  while (digits-- > 0) {
    remainder *= 10.0;
    unsigned int to_print = static_cast<unsigned int>(remainder);
    n += print(to_print);
    remainder -= to_print;
  }
  return n;
}

size_t Stream::readBytes(char* buffer, size_t length) {
  size_t n = 0;
  while (n < length) {
    int c = read();
    if (c < 0) break;
    buffer[n++] = static_cast<char>(c);
  }
  return n;
}

size_t HardwareSerial::write(uint8_t c) { return fwrite(&c, 1, 1, stdout); }
size_t HardwareSerial::write(const uint8_t* buffer, size_t size) { return fwrite(buffer, 1, size, stdout); }
// A USB CDC port holds at most a few hundred bytes before the host must wait.
int HardwareSerial::available() {
  long left = serial_in.Left();
  return static_cast<int>(left > 256 ? 256 : left);
}
int HardwareSerial::read() {
  uint8_t c;
  return serial_in.Read(&c, 1) == 1 ? c : -1;
}
int HardwareSerial::peek() {
  if (serial_in.Left() <= 0) return -1;
  int c = read();
  fseek(serial_in.file, -1, SEEK_CUR);
  serial_in.pos -= 1;
  return c;
}
}  // namespace arduino

// ---- PDM ----
int PDMClass::begin(int channels, int sampleRate) {
  if (channels != 1 || !mic.Open("mic.raw")) return 0;
  pdm_rate = sampleRate;
  mic.active = true;
  return 1;
}
void PDMClass::end() { mic.active = false; }
int PDMClass::available() { return pdm_block_bytes; }
int PDMClass::read(void* buffer, int size) {
  int n = size < pdm_block_bytes ? size : pdm_block_bytes;
  memcpy(buffer, pdm_block, n);
  memmove(pdm_block, pdm_block + n, pdm_block_bytes - n);
  pdm_block_bytes -= n;
  return n;
}
void PDMClass::onReceive(void (*function)(void)) { pdm_callback = function; }
void PDMClass::setGain(int) {}
void PDMClass::setBufferSize(int) {}

// ---- IMU ----
int EmulatedImu::begin() {
  if (!imu.Open("imu.bin")) return 0;
  imu.active = true;
  return 1;
}
int EmulatedImu::accelerationAvailable() { return imu.Left() >= static_cast<long>(sizeof(ImuRecord)); }
int EmulatedImu::gyroscopeAvailable() { return accelerationAvailable(); }
int EmulatedImu::readAcceleration(float& x, float& y, float& z) {
  if (imu.Read(&imu_now, sizeof(imu_now)) != sizeof(imu_now)) return 0;
  // the recording's 32-bit device time drives micros(), wraps included
  uint32_t low = static_cast<uint32_t>(clock_us);
  clock_us += static_cast<uint32_t>(imu_now.t_us - low);
  x = imu_now.v[0];
  y = imu_now.v[1];
  z = imu_now.v[2];
  return 1;
}
int EmulatedImu::readGyroscope(float& x, float& y, float& z) {
  x = imu_now.v[3];
  y = imu_now.v[4];
  z = imu_now.v[5];
  return 1;
}
float EmulatedImu::accelerationSampleRate() { return 119.0f; }
float EmulatedImu::gyroscopeSampleRate() { return 119.0f; }

// ---- camera ----
int OV767X::begin(int resolution, int format, int) {
  if (resolution != QCIF || format != GRAYSCALE || !camera.Open("camera.raw")) return 0;
  camera.active = true;
  return 1;
}
int OV767X::width() const { return kCameraWidth; }
int OV767X::height() const { return kCameraHeight; }
void OV767X::readFrame(void* buffer) {
  size_t got = camera.Read(buffer, kCameraWidth * kCameraHeight);
  if (got < static_cast<size_t>(kCameraWidth * kCameraHeight)) memset(static_cast<uint8_t*>(buffer) + got, 0, kCameraWidth * kCameraHeight - got);
}

// ---- the loop: one call of loop() per piece of recorded input, until all is consumed ----
namespace {
bool Pump() {
  bool more = false;
  if (serial_in.Left() > 0) more = true;
  if (mic.active && mic.Left() >= 2 && pdm_callback != nullptr) {
    pdm_block_bytes = static_cast<int>(mic.Read(pdm_block, kPdmBlockBytes)) & ~1;
    clock_us += static_cast<uint64_t>(pdm_block_bytes / 2) * 1000000u / static_cast<uint32_t>(pdm_rate);
    pdm_callback();
    more = true;
  }
  if (imu.active && EmulatedImu().accelerationAvailable()) more = true;
  if (camera.active && camera.Left() >= kCameraWidth * kCameraHeight) {
    clock_us += 1000000u;  // one frame per second, as Camera.begin(QCIF, GRAYSCALE, 1) asks
    more = true;
  }
  return more;
}
}  // namespace

// Every Invoke() of the sketch goes through here (linked with --wrap): the instructions it
// took, the instructions the sketch ran since the previous Invoke() returned (sensor reads,
// feature code, printing), and its int8 inputs and outputs, so the host can compare each one
// with its own TFLM. The log writes themselves fall outside both counts.
static uint32_t work_since = 0;  // timer value when the sketch's own work last resumed
extern "C" TfLiteStatus __real__ZN6tflite16MicroInterpreter6InvokeEv(tflite::MicroInterpreter* self);
extern "C" TfLiteStatus __wrap__ZN6tflite16MicroInterpreter6InvokeEv(tflite::MicroInterpreter* self) {
  uint32_t work = work_since - TimerNow();  // the timer counts down
  // Inputs are logged before the call: the arena planner may reuse their memory for later tensors.
  if (invokes != nullptr) {
    WriteU32(invokes, 0x4B564E49u);  // "INVK"
    WriteU32(invokes, work);
    WriteU32(invokes, static_cast<uint32_t>(self->inputs_size()));
    for (size_t i = 0; i < self->inputs_size(); ++i) {
      TfLiteTensor* t = self->input(i);
      WriteU32(invokes, static_cast<uint32_t>(t->bytes));
      fwrite(t->data.raw, 1, t->bytes, invokes);
    }
  }
  uint32_t start = TimerNow();
  TfLiteStatus status = __real__ZN6tflite16MicroInterpreter6InvokeEv(self);
  uint32_t ticks = start - TimerNow();
  if (invokes != nullptr) {
    WriteU32(invokes, ticks);
    WriteU32(invokes, static_cast<uint32_t>(status));
    WriteU32(invokes, static_cast<uint32_t>(self->outputs_size()));
    for (size_t i = 0; i < self->outputs_size(); ++i) {
      TfLiteTensor* t = self->output(i);
      WriteU32(invokes, static_cast<uint32_t>(t->bytes));
      fwrite(t->data.raw, 1, t->bytes, invokes);
    }
  }
  work_since = TimerNow();
  return status;
}

int main(void) {
  TimerStart();
  serial_in.Open("serial_in.txt");
  invokes = fopen("invokes.bin", "wb");
  setup();
  work_since = TimerNow();
  while (Pump()) loop();
  fflush(stdout);
  if (invokes != nullptr) fclose(invokes);
  return 0;
}
