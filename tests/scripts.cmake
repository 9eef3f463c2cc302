# Tests of the Python scripts (scripts/plot, report, sweep, stats, compare, ab, notebook_python) and of
# scripts/run after a failed run: stdlib unittest against the JSON fixtures in
# tests/scripts/fixtures, a fake concbench binary and the live notebook runner in its --quick
# mode, run with the interpreter
# found in tests/CMakeLists.txt (Debian's, which has matplotlib). They do not depend on the C++
# build, so sanitizer builds skip them instead of running them a second and third time. The
# exceptions read the real binary, whose path comes in CONCBENCH_BINARY (without it those parts
# skip): scripts_sweep_help runs its --help, scripts_cell_table checks its table of the
# notebook's cells against the Python runner's code for them (and the fixtures' copy of it),
# scripts_trace validates the traces it writes (--trace) for one family of every model,
# scripts_map checks that scripts/map refuses bad input in one line, and scripts_notebook_mixed
# that the Python twins' names are the binary's. scripts_charts renders every chart of the
# fixture runs and holds each to the chart rules (chart_checks.py).
if(NOT CONCBENCH_SANITIZE)
  foreach(t results notebook_cells cell_table plot report sweep sweep_help stats compare ab
      notebook_python answer machine run time_left trace timeline map notebook_mixed
      charts)
    add_test(NAME scripts_${t}
      COMMAND ${CONCBENCH_PYTHON} -m unittest -v test_${t}
      WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/scripts)
    set_tests_properties(scripts_${t} PROPERTIES TIMEOUT 300
      ENVIRONMENT "MPLBACKEND=Agg;PYTHONDONTWRITEBYTECODE=1")
  endforeach()
  # scripts/ab runs whole sessions of the fake binary and builds revisions of a throwaway
  # repository with cmake: a minute on an idle machine, several on a loaded one.
  set_tests_properties(scripts_ab PROPERTIES TIMEOUT 900)
  set_property(TEST scripts_sweep_help scripts_cell_table scripts_trace scripts_map
    scripts_notebook_mixed APPEND PROPERTY
    ENVIRONMENT "CONCBENCH_BINARY=$<TARGET_FILE:concbench>")
  # Every relative link of README.md and docs/*.md resolves: the file exists and an #anchor names
  # a heading of its page (GitHub's rule).
  add_test(NAME scripts_docs_links
    COMMAND ${CONCBENCH_PYTHON} -m unittest -v test_docs_links
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/scripts)
  set_tests_properties(scripts_docs_links PROPERTIES TIMEOUT 60
    ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
endif()
