// Shim of the TFLM micro front end (tensorflow/lite/experimental/microfrontend/lib/frontend.h).
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct FrontendState {
  int opaque;
};

struct FrontendOutput {
  const uint16_t* values;
  size_t size;
};

struct FrontendOutput FrontendProcessSamples(struct FrontendState* state, const int16_t* samples, size_t num_samples,
                                             size_t* num_samples_read);
void FrontendReset(struct FrontendState* state);

#ifdef __cplusplus
}
#endif
