// Compiled (syntax only) with the workload layer's include roots by the layering test, which
// passes only when the compiler cannot find the models/ header: workload sits below models.
// The headers of its own layer and of sys come first and must be found, so a probe compiled
// with no roots at all fails on them instead of passing.
#include "sys/uv_loop.h"
#include "workload/task.h"
#include "models/process_pool.h"
