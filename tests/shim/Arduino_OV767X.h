// Shim of Arduino_OV767X (OV7670/OV7675 camera).
#pragma once
#include <stdint.h>
enum { VGA = 0, CIF = 1, QVGA = 2, QCIF = 3 };
enum { YUV422 = 0, RGB444 = 1, RGB565 = 2, GRAYSCALE = 4 };
class OV767X {
 public:
  int begin(int resolution, int format, int fps);
  void end();
  int width() const;
  int height() const;
  int bitsPerPixel() const;
  int bytesPerPixel() const;
  void readFrame(void* buffer);
};
extern OV767X Camera;
