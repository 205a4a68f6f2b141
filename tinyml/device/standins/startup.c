// Reset handler and vector table for the emulated board (QEMU mps2-an386, Cortex-M4F).
// Newlib's rdimon layer turns stdio into Arm semihosting calls, which QEMU serves from the
// host: that is how Serial and the recorded sensor data reach the sketch.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern void __libc_init_array(void);
extern void initialise_monitor_handles(void);
extern int main(void);

// crtbegin.o is left out (-nostartfiles); static objects still register destructors against it.
void* __dso_handle = 0;

void _init(void) {}
void _fini(void) {}

void Reset_Handler(void) {
  // The sketch is built with -mfpu=fpv4-sp-d16: grant CP10/CP11 before any float instruction.
  *(volatile uint32_t*)0xE000ED88 |= (0xFu << 20);
  __asm volatile("dsb\n isb");
  for (uint32_t *src = &_sidata, *dst = &_sdata; dst < &_edata;) *dst++ = *src++;
  for (uint32_t* dst = &_sbss; dst < &_ebss;) *dst++ = 0;
  initialise_monitor_handles();
  __libc_init_array();
  exit(main());
}

static void Fault_Handler(void) {
  fputs("\nemulated board: hard fault (bad memory access or undefined instruction)\n", stderr);
  exit(3);
}

static void Default_Handler(void) {
  fputs("\nemulated board: unexpected interrupt\n", stderr);
  exit(3);
}

__attribute__((section(".isr_vector"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(&_estack), Reset_Handler, Default_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler,  Fault_Handler, 0, 0, 0, 0, Default_Handler, Default_Handler, 0,
    Default_Handler, Default_Handler,
};
