#ifndef SOCFW_CHYPERSCAN_SHIM_H
#define SOCFW_CHYPERSCAN_SHIM_H
// Hyperscan (Debian's libhyperscan-dev): the multi-pattern engine of the
// signature prefilter. pkg-config adds -I/usr/include/hs.
#include <hs.h>
#endif
