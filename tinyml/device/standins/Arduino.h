// Stand-in for the Arduino core (mbed_nano) on the emulated board. The declarations follow
// the real core's API; the definitions (arduino_core.cpp) send Serial to Arm semihosting and
// read Serial input, the microphone, the IMU and the camera from files the host wrote.
#pragma once
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HIGH 0x1
#define LOW 0x0
#define OUTPUT 0x1
#define INPUT 0x0
#define LED_BUILTIN 13
#define LEDR 22
#define LEDG 23
#define LEDB 24
#define DEC 10
#define HEX 16
#define OCT 8
#define BIN 2

typedef bool boolean;
typedef uint8_t byte;

unsigned long millis(void);
unsigned long micros(void);
void delay(unsigned long ms);
void delayMicroseconds(unsigned int us);
void pinMode(uint8_t pin, uint8_t mode);
void digitalWrite(uint8_t pin, uint8_t val);
int digitalRead(uint8_t pin);

namespace arduino {

class Print {
 public:
  virtual ~Print() {}
  virtual size_t write(uint8_t c) = 0;
  virtual size_t write(const uint8_t* buffer, size_t size);
  size_t write(const char* s) { return s ? write(reinterpret_cast<const uint8_t*>(s), strlen(s)) : 0; }
  size_t print(const char* s) { return write(s); }
  size_t print(char c) { return write(static_cast<uint8_t>(c)); }
  size_t print(unsigned char n, int base = DEC) { return print(static_cast<unsigned long>(n), base); }
  size_t print(int n, int base = DEC) { return print(static_cast<long>(n), base); }
  size_t print(unsigned int n, int base = DEC) { return print(static_cast<unsigned long>(n), base); }
  size_t print(long n, int base = DEC);
  size_t print(unsigned long n, int base = DEC);
  size_t print(long long n, int base = DEC);
  size_t print(unsigned long long n, int base = DEC);
  size_t print(double n, int digits = 2);
  template <typename T>
  size_t println(T value) {
    size_t n = print(value);
    return n + println();
  }
  template <typename T>
  size_t println(T value, int format) {
    size_t n = print(value, format);
    return n + println();
  }
  size_t println(void) { return write("\r\n"); }
  virtual void flush() {}

 private:
  size_t printNumber(unsigned long long n, int base);
};

class Stream : public Print {
 public:
  virtual int available() = 0;
  virtual int read() = 0;
  virtual int peek() = 0;
  void setTimeout(unsigned long timeout) { timeout_ = timeout; }
  size_t readBytes(char* buffer, size_t length);

 protected:
  unsigned long timeout_ = 1000;
};

class HardwareSerial : public Stream {
 public:
  void begin(unsigned long baud) { (void)baud; }
  void end() {}
  explicit operator bool() { return true; }
  size_t write(uint8_t c) override;
  size_t write(const uint8_t* buffer, size_t size) override;
  using Print::write;
  int available() override;
  int read() override;
  int peek() override;
};

// The core's ring buffer (api/RingBuffer.h), used by the TFLM library's system_setup.cpp.
template <int N>
class RingBufferN {
 public:
  uint8_t _aucBuffer[N];
  RingBufferN() { clear(); }
  void store_char(uint8_t c) {
    if (!isFull()) {
      _aucBuffer[_iHead] = c;
      _iHead = nextIndex(_iHead);
      _numElems++;
    }
  }
  void clear() { _iHead = _iTail = _numElems = 0; }
  int read_char() {
    if (isEmpty()) return -1;
    uint8_t value = _aucBuffer[_iTail];
    _iTail = nextIndex(_iTail);
    _numElems--;
    return value;
  }
  int available() { return _numElems; }
  int availableForStore() { return N - _numElems; }
  int peek() { return isEmpty() ? -1 : _aucBuffer[_iTail]; }
  bool isFull() { return _numElems == N; }

 private:
  int _iHead, _iTail, _numElems;
  int nextIndex(int index) { return (index + 1) % N; }
  bool isEmpty() { return _numElems == 0; }
};

}  // namespace arduino

using namespace arduino;

extern HardwareSerial Serial;

void setup(void);
void loop(void);
