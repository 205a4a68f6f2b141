// The tinyml capture protocol, device side (docs/capture_protocol.md; host: tinyml/capture/protocol.py).
// Every message is one line: $<TYPE>,<fields>*<CRC-16/CCITT-FALSE of the bytes between $ and *, 4 hex>\n
#pragma once
#include <Arduino.h>

namespace tinyml_capture {

constexpr int kProtocolVersion = 1;

inline uint16_t Crc16(const uint8_t* data, size_t n, uint16_t crc = 0xFFFF) {
  for (size_t i = 0; i < n; ++i) {
    crc ^= static_cast<uint16_t>(data[i]) << 8;
    for (int b = 0; b < 8; ++b) crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : static_cast<uint16_t>(crc << 1);
  }
  return crc;
}

// Builds one line in a fixed buffer; fields are appended with Add*() and the line is sent with Send().
class Line {
 public:
  explicit Line(const char* type) : len_(0) {
    buf_[len_++] = '$';
    Append(type);
  }
  void AddInt(long v) {
    char tmp[16];
    snprintf(tmp, sizeof(tmp), ",%ld", v);
    Append(tmp);
  }
  void AddUnsigned(unsigned long v) {
    char tmp[16];
    snprintf(tmp, sizeof(tmp), ",%lu", v);
    Append(tmp);
  }
  void AddFloat(float v) {
    char tmp[24];
    snprintf(tmp, sizeof(tmp), ",%.5g", static_cast<double>(v));
    Append(tmp);
  }
  void AddText(const char* s) {
    Append(",");
    Append(s);
  }
  void AddBase64(const uint8_t* data, size_t n) {
    static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    Append(",");
    for (size_t i = 0; i < n; i += 3) {
      uint32_t v = static_cast<uint32_t>(data[i]) << 16;
      if (i + 1 < n) v |= static_cast<uint32_t>(data[i + 1]) << 8;
      if (i + 2 < n) v |= data[i + 2];
      char out[5] = {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63],
                     i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=', i + 2 < n ? kAlphabet[v & 63] : '=', 0};
      Append(out);
    }
  }
  void Send(Stream& port) {
    uint16_t crc = Crc16(reinterpret_cast<const uint8_t*>(buf_ + 1), len_ - 1);
    char tail[8];
    snprintf(tail, sizeof(tail), "*%04X\n", crc);
    Append(tail);
    port.write(reinterpret_cast<const uint8_t*>(buf_), len_);
  }

 private:
  void Append(const char* s) {
    while (*s && len_ < sizeof(buf_) - 8) buf_[len_++] = *s++;
  }
  char buf_[1400];
  size_t len_;
};

// Reads host commands ($HELLO?, $START, $STOP) without blocking; bounded line buffer.
class Commands {
 public:
  // Returns 'H' (hello?), 'S' (start), 'T' (stop) or 0.
  char Poll(Stream& port) {
    while (port.available() > 0) {
      char c = static_cast<char>(port.read());
      if (c == '\n') {
        line_[len_] = 0;
        len_ = 0;
        if (strncmp(line_, "$HELLO?*", 8) == 0) return 'H';
        if (strncmp(line_, "$START*", 7) == 0) return 'S';
        if (strncmp(line_, "$STOP*", 6) == 0) return 'T';
      } else if (len_ < sizeof(line_) - 1) {
        line_[len_++] = c;
      }
    }
    return 0;
  }

 private:
  char line_[32];
  size_t len_ = 0;
};

inline void SendHello(Stream& port, const char* board, const char* sensor, const char* axes, const char* units,
                      float rate_hz) {
  Line line("HELLO");
  line.AddInt(kProtocolVersion);
  line.AddText(board);
  line.AddText(sensor);
  line.AddText(axes);
  line.AddText(units);
  line.AddFloat(rate_hz);
  line.Send(port);
}

inline void SendRecording(Stream& port, bool on) {
  Line line("REC");
  line.AddInt(on ? 1 : 0);
  line.Send(port);
}

// Answers $HELLO? with send_hello() and $START/$STOP with $REC; returns the command seen
// ('H', 'S', 'T' or 0) so a sketch can reset its counters on 'S'.
inline char HandleCommands(Stream& port, Commands& commands, bool& recording, void (*send_hello)()) {
  char c = commands.Poll(port);
  if (c == 'H') {
    send_hello();
  } else if (c == 'S' || c == 'T') {
    recording = (c == 'S');
    SendRecording(port, recording);
  }
  return c;
}

}  // namespace tinyml_capture
