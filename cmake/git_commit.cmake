# Run at build time (cmake -DSOURCE=<repository> -DOUTPUT=<header> -P git_commit.cmake): writes
# OUTPUT with the commit the sources are at, and only when it changed, so that a build after a
# commit or an edit records the right one without a reconfigure, and an unchanged one rebuilds
# nothing.
execute_process(
  COMMAND git describe --always --dirty --abbrev=12
  WORKING_DIRECTORY ${SOURCE}
  OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE
  ERROR_QUIET)
if(NOT commit)
  set(commit "unknown")
endif()
set(text "// Generated at every build by cmake/git_commit.cmake; do not edit.\n#pragma once\n\n#define CONCBENCH_GIT_COMMIT \"${commit}\"\n")
set(old "")
if(EXISTS ${OUTPUT})
  file(READ ${OUTPUT} old)
endif()
if(NOT old STREQUAL text)
  file(WRITE ${OUTPUT} "${text}")
endif()
