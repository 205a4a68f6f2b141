// Stand-in for Arduino_OV767X (OV7675 camera): grayscale frames read from the host's camera.raw.
#pragma once
#include <stdint.h>
enum { VGA = 0, CIF = 1, QVGA = 2, QCIF = 3 };
enum { YUV422 = 0, RGB444 = 1, RGB565 = 2, GRAYSCALE = 4 };
class OV767X {
 public:
  int begin(int resolution, int format, int fps);
  void end() {}
  int width() const;
  int height() const;
  int bitsPerPixel() const { return 8; }
  int bytesPerPixel() const { return 1; }
  void readFrame(void* buffer);
};
extern OV767X Camera;
