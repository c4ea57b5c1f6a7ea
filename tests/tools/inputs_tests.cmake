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

# A sanitized recsys cannot start under `ulimit -v` (AddressSanitizer reserves terabytes of shadow address
# space), so the oom case says it is skipped there.
if(RECSYS_SANITIZE)
  set(recsys_inputs_sanitized ON)
else()
  set(recsys_inputs_sanitized OFF)
endif()
foreach(case stdin fifo gzip unreadable signal oom)
  add_test(NAME tools/inputs_${case}
           COMMAND bash ${PROJECT_SOURCE_DIR}/tests/tools/inputs_test.sh $<TARGET_FILE:recsys_cli>
                   ${CMAKE_CURRENT_BINARY_DIR}/inputs_${case} ${case} ${RECSYS_HAVE_ZLIB} ${recsys_inputs_sanitized})
  set_tests_properties(tools/inputs_${case} PROPERTIES ENVIRONMENT "OMP_NUM_THREADS=2" TIMEOUT 180
                       SKIP_RETURN_CODE 77)
endforeach()

# ---- recommend: only models that rank per user, --beside only on the same data (item 6) ----
recsys_cli_case(input_train_review_small RC 0 SETUP cli_review_small NEEDS cli_data EXPECT "wrote runs/review_small/"
                ARGS train --model review --data data --epochs 1 --embedding-dim 8 --filters 8 --lstm-units 8
                --vocab-size 200 --eval none --out runs/review_small --quiet)
recsys_cli_case(recommend_review_refused RC 2 ONE_LINE NEEDS cli_review_small
                EXPECT "holds a review model, whose scores are not per-user rankings"
                ARGS recommend runs/review_small --user 1)
recsys_cli_case(input_train_other_data RC 0 SETUP cli_other_data EXPECT "wrote runs/other_data/"
                ARGS train --model popularity --users ${RECSYS_CLI_DATA}/all_liked.csv --items ${RECSYS_CLI_DATA}/items.csv
                --eval none --out runs/other_data --quiet)
recsys_cli_case(recommend_beside_other_data RC 2 ONE_LINE NEEDS "cli_pop;cli_other_data"
                EXPECT "--beside runs/other_data was trained on other data than runs/pop"
                ARGS recommend runs/pop --user 1 --beside runs/other_data)
