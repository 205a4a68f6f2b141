// Shim of the Arduino core API used by generated sketches (declarations only).
#pragma once
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

typedef bool boolean;
typedef uint8_t byte;

unsigned long millis(void);
unsigned long micros(void);
void delay(unsigned long ms);
void delayMicroseconds(unsigned int us);
void pinMode(uint8_t pin, uint8_t mode);
void digitalWrite(uint8_t pin, uint8_t val);
int digitalRead(uint8_t pin);

class Print {
 public:
  size_t write(uint8_t c);
  size_t write(const uint8_t* buffer, size_t size);
  size_t print(const char* s);
  size_t print(char c);
  size_t print(int n, int base = DEC);
  size_t print(unsigned int n, int base = DEC);
  size_t print(long n, int base = DEC);
  size_t print(unsigned long n, int base = DEC);
  size_t print(double n, int digits = 2);
  size_t println(const char* s);
  size_t println(char c);
  size_t println(int n, int base = DEC);
  size_t println(unsigned int n, int base = DEC);
  size_t println(long n, int base = DEC);
  size_t println(unsigned long n, int base = DEC);
  size_t println(double n, int digits = 2);
  size_t println(void);
  void flush();
};

class Stream : public Print {
 public:
  int available();
  int read();
  int peek();
  void setTimeout(unsigned long timeout);
  size_t readBytes(char* buffer, size_t length);
};

class HardwareSerial : public Stream {
 public:
  void begin(unsigned long baud);
  void end();
  explicit operator bool();
};

extern HardwareSerial Serial;
