// Shim of the TFLM op resolver base class.
#pragma once
namespace tflite {
class MicroOpResolver {
 public:
  virtual ~MicroOpResolver() {}
};
}  // namespace tflite
