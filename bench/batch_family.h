// The one body of every `<model>/<workload>` family of the tables (bench/models.h,
// bench/workloads.h): build the workload's TaskSpec and inputs from the arguments, start what its
// waits need (the echo server), calibrate its compute once per process (the expected checksum and
// each task's CPU time), compute the ideal from the model's shape, build the model's runner, then
// time one batch per iteration and verify every iteration's checksum (bench/family.h).
//
//   ideal_s          BatchIdealSeconds (measure/ideal.h) of the calibrated CPU times, the spec's
//                    waits and the model's shape (lanes, CPU slots, chunksize)
//   machine_ideal_s  the same with the capacity the machine delivers on this batch's compute just
//                    before the timed loop, for models whose compute can use several cores
//   machine_capacity that capacity, in cores
//   checksum         Σ results: the compute steps' calibrated results plus every wait's result
//
// A workload of one echo request per task also reports request_us and bytes_per_second.
#pragma once

#include <string_view>

#include "options.h"

namespace concbench {

// Registers the families of every model whose name's base is `base` ("threads" registers
// threads/..., threads.per_task/..., threads.gil/...), workload by workload, in the tables'
// order. Returns how many benchmarks were registered.
int RegisterBatchFamilies(const Options& o, std::string_view base);

}  // namespace concbench
