#ifndef SOCFW_CPCRE2_SHIM_H
#define SOCFW_CPCRE2_SHIM_H
// The 8-bit code-unit library: patterns and subjects are bytes (UTF-8 or binary payloads).
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#endif
