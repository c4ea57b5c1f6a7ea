# tests/tools/serve_tests.cmake — tests of `recsys serve` (included from tools/CMakeLists.txt): the handlers
# in-process (always), and the server as a process talked to over HTTP by a Python client (only where cpp-httplib
# was found); the batch export of `recsys recommend` as a process.

recsys_check_test_names(${PROJECT_SOURCE_DIR}/tests/tools/serve_test.cpp)
add_executable(recsys_serve_tests ${PROJECT_SOURCE_DIR}/tests/tools/serve_test.cpp)
target_include_directories(recsys_serve_tests PRIVATE ${PROJECT_SOURCE_DIR}/tools)
target_link_libraries(recsys_serve_tests PRIVATE recsys_test_main)
doctest_discover_tests(recsys_serve_tests TEST_PREFIX "tools/" PROPERTIES ENVIRONMENT "OMP_NUM_THREADS=2")

# The server as a process: trains two tiny runs with the built-in generator, serves one on an ephemeral port and
# checks every endpoint, the errors, ten reloads under concurrent requests, SIGHUP and SIGTERM (about 2 s).
recsys_cli_case(serve_help RC 0 EXPECT "usage: recsys serve" ARGS serve --help)
recsys_cli_case(serve_missing_run RC 2 ONE_LINE EXPECT "recsys serve: missing RUN" ARGS serve)
recsys_cli_case(serve_bad_port RC 2 ONE_LINE EXPECT "--port must be between 0 and 65535, got 70000"
                ARGS serve runs/none --port 70000)
if(RECSYS_HAVE_HTTPLIB)
  recsys_cli_case(serve_no_run RC 1 ONE_LINE EXPECT "no run folder 'runs/none'" ARGS serve runs/none --port 0)
  recsys_cli_case(serve_empty_token RC 1 ONE_LINE EXPECT "holds no token" ARGS serve runs/none --admin-token-file
                  ${PROJECT_SOURCE_DIR}/tests/tools/data/empty_token.txt)
  find_package(Python3 COMPONENTS Interpreter)
  if(Python3_Interpreter_FOUND)
    add_test(NAME tools/serve_client
             COMMAND Python3::Interpreter ${PROJECT_SOURCE_DIR}/tests/tools/serve_client_test.py $<TARGET_FILE:recsys_cli>
                     ${CMAKE_CURRENT_BINARY_DIR}/serve_work)
    set_tests_properties(tools/serve_client PROPERTIES ENVIRONMENT "OMP_NUM_THREADS=2" TIMEOUT 180)
  else()
    message(STATUS "recsys serve: no python3, so the client test tools/serve_client is skipped")
  endif()
endif()

# ---- recsys recommend's batch export (no HTTP needed) ----
recsys_cli_case(recommend_two_sources RC 2 ONE_LINE EXPECT "give one of --user, --users, --users-file and --all-users"
                ARGS recommend runs/mf --user 1 --all-users)
recsys_cli_case(recommend_users_not_stdin RC 2 ONE_LINE EXPECT "--users takes '-'" ARGS recommend runs/mf --users 1,2)
recsys_cli_case(recommend_beside_csv RC 2 ONE_LINE EXPECT "--beside needs --format table"
                ARGS recommend runs/mf --all-users --format csv --beside runs/pop)
recsys_cli_case(recommend_bad_format RC 2 ONE_LINE EXPECT "--format must be one of table, csv, jsonl"
                ARGS recommend runs/mf --all-users --format xml)
recsys_cli_case(recommend_users_file RC 0 NEEDS cli_mf STREAM stderr EXPECT "unknown user id 'nobody' (skipped)"
                ARGS recommend runs/mf --users-file ${PROJECT_SOURCE_DIR}/tests/tools/data/user_ids.txt --format jsonl)
recsys_cli_case(recommend_users_file_missing RC 1 ONE_LINE NEEDS cli_mf EXPECT "cannot read 'nowhere.txt'"
                ARGS recommend runs/mf --users-file nowhere.txt)
recsys_cli_case(recommend_all_unknown RC 1 ONE_LINE NEEDS cli_mf EXPECT "unknown user id 'nobody'"
                ARGS recommend runs/mf --user nobody,ghost --format csv)
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME tools/recommend_export
           COMMAND Python3::Interpreter ${PROJECT_SOURCE_DIR}/tests/tools/export_test.py $<TARGET_FILE:recsys_cli>
                   ${RECSYS_CLI_WORK})
  set_tests_properties(tools/recommend_export PROPERTIES FIXTURES_REQUIRED cli_mf ENVIRONMENT "OMP_NUM_THREADS=2"
                       TIMEOUT 120)
endif()
