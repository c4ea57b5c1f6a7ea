# tests/tools/distributed_tests.cmake — `recsys train --distributed` under mpirun -np 2 (included from tools/CMakeLists.txt);
# skipped, with the reason, when this build has no MPI or no mpirun.
if(TARGET recsys::mpi AND MPIEXEC_EXECUTABLE)
  add_test(NAME tools/train_distributed
    COMMAND ${PROJECT_SOURCE_DIR}/tests/tools/distributed_test.sh $<TARGET_FILE:recsys_cli> ${MPIEXEC_EXECUTABLE}
      ${CMAKE_CURRENT_BINARY_DIR}/distributed_work)
  set_tests_properties(tools/train_distributed PROPERTIES TIMEOUT 180 PROCESSORS 2)
  if(RECSYS_SANITIZE)  # Open MPI's start-up allocations are never freed: no leak check under mpirun
    set_tests_properties(tools/train_distributed PROPERTIES ENVIRONMENT "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1")
  endif()
else()
  add_test(NAME tools/train_distributed
    COMMAND sh -c "echo 'skipped: MPI or mpirun not found (apt-get install libopenmpi-dev openmpi-bin)'; exit 77")
  set_tests_properties(tools/train_distributed PROPERTIES SKIP_RETURN_CODE 77)
endif()
