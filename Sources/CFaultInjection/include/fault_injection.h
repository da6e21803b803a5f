#ifndef BNREPRO_FAULT_INJECTION_H
#define BNREPRO_FAULT_INJECTION_H
// A preload library for tests only (libbnrepro-faults.so, LD_PRELOAD): makes the Nth file-system write
// operation of one process fail with a chosen errno. It exports the libc functions it wraps and nothing
// else; fault_injection.c says what it covers and how it is configured.
#endif
