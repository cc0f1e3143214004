#ifndef TIPGATE_CSODIUM_SHIM_H
#define TIPGATE_CSODIUM_SHIM_H
#include <sodium.h>
#endif
