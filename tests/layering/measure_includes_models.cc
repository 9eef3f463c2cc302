// Compiled (syntax only) with the measure layer's include roots by the layering test, which
// passes only when the compiler cannot find the models/ header: measure sits below models.
#include "workload/task.h"
#include "measure/timer.h"
#include "models/gil.h"
