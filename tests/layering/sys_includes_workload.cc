// Compiled (syntax only) with the sys layer's include roots by the layering test, which passes
// only when the compiler cannot find the workload/ header: sys is the bottom layer.
#include "sys/uv_loop.h"
#include "workload/task.h"
