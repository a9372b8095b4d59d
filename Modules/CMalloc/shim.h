// glibc's malloc tuning (mallopt): socfw-api fixes its thresholds at start.
#include <malloc.h>
