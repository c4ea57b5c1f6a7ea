# tests/tools/inputs_tests.cmake — process tests of the inputs a Unix user expects (issue 18, included from
# cli_tests.cmake): a directory or a missing file named as such, standard input, FIFOs, gzip (read through zlib
# or refused), an unreadable file, SIGINT/SIGTERM during training, out of memory. The one-command cases use
# recsys_cli_case; the rest run tests/tools/inputs_test.sh, one case per test.

recsys_cli_case(input_directory RC 1 ONE_LINE EXPECT "'${RECSYS_CLI_DATA}' is a directory, not a file"
                ARGS clean --users ${RECSYS_CLI_DATA} --items ${RECSYS_CLI_DATA}/items.csv)
recsys_cli_case(input_items_directory RC 1 ONE_LINE EXPECT "'${RECSYS_CLI_DATA}' is a directory, not a file"
                ARGS clean --users ${RECSYS_CLI_DATA}/all_liked.csv --items ${RECSYS_CLI_DATA})
recsys_cli_case(input_missing RC 1 ONE_LINE EXPECT "no file 'no_such_file.csv'"
                ARGS clean --users no_such_file.csv --items ${RECSYS_CLI_DATA}/items.csv)

foreach(case stdin fifo gzip unreadable signal oom)
  add_test(NAME tools/inputs_${case}
           COMMAND bash ${PROJECT_SOURCE_DIR}/tests/tools/inputs_test.sh $<TARGET_FILE:recsys_cli>
                   ${CMAKE_CURRENT_BINARY_DIR}/inputs_${case} ${case} ${RECSYS_HAVE_ZLIB})
  set_tests_properties(tools/inputs_${case} PROPERTIES ENVIRONMENT "OMP_NUM_THREADS=2" TIMEOUT 180
                       SKIP_RETURN_CODE 77)
endforeach()

