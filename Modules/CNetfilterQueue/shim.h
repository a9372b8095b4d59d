#include <libnetfilter_queue/libnetfilter_queue.h>
