# tests/tools/cli_tests.cmake — process tests of the recsys command (included from tools/CMakeLists.txt): every
# subcommand's --help, a bad argument and a bad file for each, and a small pipeline (generate, train, evaluate,
# recommend, compare) whose run folders the failure cases then damage.

set(RECSYS_CLI_WORK ${CMAKE_CURRENT_BINARY_DIR}/cli_work)
set(RECSYS_CLI_DATA ${PROJECT_SOURCE_DIR}/tests/tools/data)
set(RECSYS_CLI_EXPECT ${PROJECT_SOURCE_DIR}/tests/tools/expect.cmake)

# recsys_cli_case(NAME RC <0|2|nonzero> [EXPECT text] [STREAM stdout|stderr] [ONE_LINE] [SETUP fixture]
#                 [NEEDS fixtures...] ARGS recsys-arguments...)
function(recsys_cli_case name)
  cmake_parse_arguments(C "ONE_LINE" "RC;EXPECT;STREAM;SETUP" "NEEDS;ARGS" ${ARGN})
  set(defs -DRC=${C_RC} -DWORKDIR=${RECSYS_CLI_WORK})
  if(DEFINED C_EXPECT)
    list(APPEND defs "-DEXPECT=${C_EXPECT}")
  endif()
  if(C_STREAM)
    list(APPEND defs -DSTREAM=${C_STREAM})
  endif()
  if(C_ONE_LINE)
    list(APPEND defs -DONE_LINE=1)
  endif()
  add_test(NAME tools/${name} COMMAND ${CMAKE_COMMAND} ${defs} -P ${RECSYS_CLI_EXPECT} -- $<TARGET_FILE:recsys_cli> ${C_ARGS})
  set_tests_properties(tools/${name} PROPERTIES ENVIRONMENT "OMP_NUM_THREADS=2" TIMEOUT 300)
  if(C_SETUP)
    set_tests_properties(tools/${name} PROPERTIES FIXTURES_SETUP ${C_SETUP})
  endif()
  if(C_NEEDS)
    set_tests_properties(tools/${name} PROPERTIES FIXTURES_REQUIRED "${C_NEEDS}")
  endif()
endfunction()

# recsys_cli_damage(NAME FIXTURE NEEDS SRC DST FILE TEXT [RESEAL]): copies run folder SRC to DST and overwrites one
# file; RESEAL updates manifest.json to match, so the damage reaches the file's parser instead of the manifest check.
function(recsys_cli_damage name fixture needs src dst file text)
  set(reseal 0)
  if("RESEAL" IN_LIST ARGN)
    set(reseal 1)
  endif()
  add_test(NAME tools/${name} COMMAND ${CMAKE_COMMAND} -DSRC=${RECSYS_CLI_WORK}/${src} -DDST=${RECSYS_CLI_WORK}/${dst}
                                      -DFILE=${file} "-DTEXT=${text}" -DRESEAL=${reseal}
                                      -P ${PROJECT_SOURCE_DIR}/tests/tools/damage.cmake)
  set_tests_properties(tools/${name} PROPERTIES FIXTURES_SETUP ${fixture} FIXTURES_REQUIRED ${needs})
endfunction()

# The run-folder pieces in-process (manifest, siblings, lock, publishing), beside cli_units_test.cpp.
recsys_check_test_names(${PROJECT_SOURCE_DIR}/tests/tools/run_folder_test.cpp)
target_sources(recsys_tools_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests/tools/run_folder_test.cpp)

# ---- help: the overview and every subcommand ----
recsys_cli_case(help RC 0 EXPECT "usage: recsys COMMAND" ARGS --help)
foreach(cmd generate clean train evaluate recommend compare)
  recsys_cli_case(${cmd}_help RC 0 EXPECT "usage: recsys ${cmd}" ARGS ${cmd} --help)
endforeach()
recsys_cli_case(help_after_bad_option RC 0 EXPECT "usage: recsys train" ARGS train --epochs x -h)

# ---- bad arguments: status 2 and one line naming the mistake ----
recsys_cli_case(no_command RC 2 ONE_LINE EXPECT "recsys: missing command" ARGS)
recsys_cli_case(unknown_command RC 2 ONE_LINE EXPECT "unknown command 'fit'" ARGS fit)
recsys_cli_case(generate_bad_number RC 2 ONE_LINE EXPECT "recsys generate: --users expects an integer, got 'many'"
                ARGS generate --users many)
recsys_cli_case(generate_unknown_option RC 2 ONE_LINE EXPECT "unknown option '--colour'" ARGS generate --colour red)
recsys_cli_case(train_bad_model RC 2 ONE_LINE EXPECT "--model must be one of review, sequence, mf, content, popularity"
                ARGS train --model knn --data .)
recsys_cli_case(train_missing_model RC 2 ONE_LINE EXPECT "recsys train: missing --model" ARGS train --data .)
recsys_cli_case(train_bad_eval RC 2 ONE_LINE EXPECT "--eval must be one of split, leave-last-out, temporal, cv, none"
                ARGS train --model mf --eval holdout)
recsys_cli_case(train_missing_value RC 2 ONE_LINE EXPECT "--epochs needs a value" ARGS train --model mf --epochs)
recsys_cli_case(train_zero_epochs RC 2 ONE_LINE EXPECT "--epochs must be between 1 and 100000, got 0"
                ARGS train --model mf --users x.csv --items y.csv --epochs 0)
recsys_cli_case(clean_both_sources RC 2 ONE_LINE EXPECT "give either --data or --users/--items, not both"
                ARGS clean --data data --users data/user_data.csv)
recsys_cli_case(evaluate_missing_run RC 2 ONE_LINE EXPECT "recsys evaluate: missing RUN" ARGS evaluate)
recsys_cli_case(recommend_missing_user RC 2 ONE_LINE EXPECT "recsys recommend: missing --user" ARGS recommend runs/pop)
recsys_cli_case(recommend_bad_n RC 2 ONE_LINE EXPECT "--n must be between 1 and 100000, got -3" ARGS recommend runs/pop --user 1 -n -3)
recsys_cli_case(compare_missing_run RC 2 ONE_LINE EXPECT "recsys compare: missing RUN_B" ARGS compare runs/pop)
recsys_cli_case(compare_bad_confidence RC 2 ONE_LINE EXPECT "--confidence must lie in" ARGS compare a b --confidence 2)

# ---- bad files: status 1 and one line naming the file ----
recsys_cli_case(generate_bad_folder RC 1 ONE_LINE EXPECT "cannot create directories"
                ARGS generate --out ${RECSYS_CLI_DATA}/items.csv/sub)
recsys_cli_case(train_missing_file RC 1 ONE_LINE EXPECT "no file 'nowhere/ratings.csv'"
                ARGS train --model mf --users nowhere/ratings.csv --items nowhere/movies.csv)
recsys_cli_case(train_unknown_format RC 1 ONE_LINE EXPECT "cannot tell the format of"
                ARGS train --model mf --users ${RECSYS_CLI_DATA}/unknown_format.csv --items ${RECSYS_CLI_DATA}/items.csv)
recsys_cli_case(train_bad_cell RC 1 ONE_LINE EXPECT "line 3, column 3 ('rating')"
                ARGS train --model mf --users ${RECSYS_CLI_DATA}/bad_rating.csv --items ${RECSYS_CLI_DATA}/items.csv)
recsys_cli_case(clean_no_data_set RC 1 ONE_LINE EXPECT "holds no known data set" ARGS clean --data ${RECSYS_CLI_DATA})
recsys_cli_case(evaluate_not_a_run RC 1 ONE_LINE EXPECT "is not a run folder: it has no config.json"
                ARGS evaluate ${RECSYS_CLI_DATA})
recsys_cli_case(recommend_no_run RC 1 ONE_LINE EXPECT "no run folder 'runs/none'" ARGS recommend runs/none --user 1)
recsys_cli_case(compare_no_run RC 1 ONE_LINE EXPECT "no run folder 'runs/none'" ARGS compare runs/none runs/none)

# ---- a small pipeline: each step a fixture for the next ----
recsys_cli_case(pipeline_generate RC 0 SETUP cli_data EXPECT "Bayes-optimal like accuracy"
                ARGS generate --out data --users 60 --items 150 --ratings 3000)
recsys_cli_case(pipeline_clean RC 0 NEEDS cli_data EXPECT "duplicate interaction rows" ARGS clean --data data --out data/clean)
# --eval cv --tune: each fold's settings chosen inside the fold (nested), reported per fold.
recsys_cli_case(pipeline_review_linear_nested_cv RC 0 NEEDS cli_data EXPECT "fold 3: chose {\"l2\":"
                ARGS train --model review-linear --data data --eval cv --folds 3 --tune --out runs/review_linear_cv --quiet)
recsys_cli_case(pipeline_train_popularity RC 0 SETUP cli_pop NEEDS cli_data EXPECT "leave-last-out: 60 users"
                ARGS train --model popularity --data data --out runs/pop --eval leave-last-out)
recsys_cli_case(pipeline_train_mf RC 0 SETUP cli_mf NEEDS cli_data EXPECT "wrote runs/mf/"
                ARGS train --model mf --users data/user_data.csv --items data/item_data.csv --out runs/mf
                     --eval leave-last-out --epochs 5 --quiet)
recsys_cli_case(pipeline_train_mf_split RC 0 SETUP cli_mf_split NEEDS cli_data EXPECT "rating predictor"
                ARGS train --model mf --data data --out runs/mf_split --epochs 5 --quiet)
recsys_cli_case(pipeline_train_profile RC 0 NEEDS cli_data EXPECT "profile.txt profile.svg profile.trace.json"
                ARGS train --model mf --data data --out runs/mf_profile --epochs 2 --quiet --profile)
recsys_cli_case(pipeline_train_sampled RC 0 SETUP cli_sampled NEEDS cli_data EXPECT "held_out.csv candidates.csv"
                ARGS train --model popularity --data data --out runs/sampled --eval leave-last-out --eval-negatives 40
                     --eval-sampling popularity)
recsys_cli_case(pipeline_train_tune_nothing RC 0 NEEDS cli_data EXPECT "popularity has no settings to tune"
                ARGS train --model popularity --data data --out runs/pop_tuned --eval leave-last-out --tune)
recsys_cli_case(pipeline_evaluate_sampled RC 0 NEEDS cli_sampled EXPECT "matches the stored metrics.json"
                ARGS evaluate runs/sampled)
recsys_cli_case(pipeline_train_tuned RC 0 SETUP cli_tuned NEEDS cli_data EXPECT "tuning.json validation/"
                ARGS train --model mf --loss bpr --data data --out runs/tuned --eval temporal --tune --epochs 2 --quiet)
recsys_cli_case(pipeline_evaluate_tuned RC 0 SETUP cli_tuned_scores NEEDS cli_tuned EXPECT "matches the stored metrics.json"
                ARGS evaluate runs/tuned --export-scores tuned_scores.npy)
# The exported scores, read back as another system's: exactly the model's own numbers.
recsys_cli_case(pipeline_evaluate_scores RC 0 NEEDS "cli_tuned;cli_tuned_scores" EXPECT "every number equals the run's own model (mf)"
                ARGS evaluate runs/tuned --scores tuned_scores.npy --name again)
recsys_cli_case(pipeline_evaluate_scores_json RC 0 NEEDS "cli_tuned;cli_tuned_scores" STREAM stdout EXPECT "\"split\":"
                ARGS evaluate runs/tuned --scores tuned_scores.npy --name again --json)
recsys_cli_case(pipeline_evaluate_scores_validation RC 0 NEEDS "cli_tuned;cli_tuned_scores" EXPECT "on run runs/tuned's validation split"
                ARGS evaluate runs/tuned --scores tuned_scores.npy --split validation)
recsys_cli_case(evaluate_scores_wrong_shape RC 1 ONE_LINE NEEDS cli_tuned EXPECT "is not an .npy file"
                ARGS evaluate runs/tuned --scores runs/tuned/config.json)
recsys_cli_damage(damage_candidates cli_bad_candidates cli_sampled runs/sampled runs/bad_candidates candidates.csv
                  "user_id,item_id,role\n1,2,target\n" RESEAL)
recsys_cli_case(evaluate_damaged_candidates RC 1 ONE_LINE NEEDS cli_bad_candidates EXPECT "candidates.csv' lists 1 candidates"
                ARGS evaluate runs/bad_candidates)
recsys_cli_case(pipeline_evaluate RC 0 NEEDS cli_mf EXPECT "matches the stored metrics.json" ARGS evaluate runs/mf)
recsys_cli_case(pipeline_evaluate_split RC 0 NEEDS cli_mf_split EXPECT "matches the stored metrics.json"
                ARGS evaluate runs/mf_split)
recsys_cli_case(pipeline_recommend RC 0 NEEDS "cli_mf;cli_pop" EXPECT "mf: title"
                ARGS recommend runs/mf --user 1,2 -n 5 --beside runs/pop)
recsys_cli_case(pipeline_compare RC 0 NEEDS "cli_mf;cli_pop" EXPECT "A/B comparison of ndcg@10 over"
                ARGS compare runs/pop runs/mf --resamples 500)
recsys_cli_case(pipeline_compare_rows RC 0 NEEDS cli_mf_split EXPECT "A/B comparison of rmse over"
                ARGS compare runs/mf_split runs/mf_split --metric rmse --resamples 200)

# ---- errors that need a run folder ----
recsys_cli_case(recommend_unknown_user RC 1 ONE_LINE NEEDS cli_pop EXPECT "unknown user id 'nobody'"
                ARGS recommend runs/pop --user nobody)
recsys_cli_case(compare_different_protocols RC 1 ONE_LINE NEEDS "cli_pop;cli_mf_split"
                EXPECT "the runs were not evaluated alike" ARGS compare runs/pop runs/mf_split)
recsys_cli_case(compare_no_ratings RC 1 ONE_LINE NEEDS cli_mf_split EXPECT "has no per_user.csv"
                ARGS compare runs/mf_split runs/mf_split --metric ndcg@10)
recsys_cli_case(evaluate_no_data RC 1 ONE_LINE NEEDS cli_mf EXPECT "no file 'nowhere.csv'"
                ARGS evaluate runs/mf --users nowhere.csv --items nowhere.csv)
recsys_cli_damage(damage_config cli_bad_config cli_pop runs/pop runs/bad_config config.json "{ \"model\": " RESEAL)
recsys_cli_case(evaluate_damaged_config RC 1 ONE_LINE NEEDS cli_bad_config EXPECT "config.json' is damaged: json: line 1"
                ARGS evaluate runs/bad_config)
recsys_cli_damage(damage_weights cli_bad_weights cli_mf runs/mf runs/bad_weights model.safetensors "not a weight file" RESEAL)
recsys_cli_case(recommend_damaged_weights RC 1 ONE_LINE NEEDS cli_bad_weights EXPECT "model.safetensors"
                ARGS recommend runs/bad_weights --user 1)
recsys_cli_damage(damage_per_user cli_bad_per_user cli_mf runs/mf runs/bad_per_user per_user.csv "user_id,hr@10,ndcg@10\n1,1,lots\n" RESEAL)
recsys_cli_case(compare_damaged_per_user RC 1 ONE_LINE NEEDS "cli_bad_per_user;cli_mf"
                EXPECT "data row 1 column ndcg@10 holds 'lots', not a number" ARGS compare runs/mf runs/bad_per_user)

# Data validation, numerical guards and the usage-mistake rule (issue 18): their own file.
include(${CMAKE_CURRENT_LIST_DIR}/validation_tests.cmake)
# Standard input, FIFOs, gzip, directories, unreadable files, signals and out of memory (issue 18): their own file.
include(${CMAKE_CURRENT_LIST_DIR}/inputs_tests.cmake)

# ---- a run folder is one sealed unit (manifest.json): cut, missing, foreign and unlisted files are refused ----
recsys_cli_damage(damage_cut_rows cli_cut_rows cli_mf runs/mf runs/cut_rows interactions.csv "user_id,item_id,rating,timestamp\n1,2,3,4\n")
recsys_cli_case(recommend_cut_rows RC 1 ONE_LINE NEEDS cli_cut_rows EXPECT "interactions.csv' is 41 bytes, manifest.json lists"
                ARGS recommend runs/cut_rows --user 1)
recsys_cli_damage(damage_missing_held_out cli_missing_held_out cli_mf runs/mf runs/missing_held_out held_out.csv "<remove>")
recsys_cli_case(recommend_missing_held_out RC 1 ONE_LINE NEEDS cli_missing_held_out
                EXPECT "held_out.csv' is missing (listed in manifest.json): the run folder is incomplete"
                ARGS recommend runs/missing_held_out --user 1)
recsys_cli_damage(damage_extra_file cli_extra_file cli_mf runs/mf runs/extra_file candidates.csv "user_id,item_id,target\n")
recsys_cli_case(evaluate_extra_file RC 1 ONE_LINE NEEDS cli_extra_file
                EXPECT "candidates.csv' is not listed in manifest.json: the folder mixes files of two runs"
                ARGS evaluate runs/extra_file)
recsys_cli_damage(damage_same_size cli_same_size cli_pop runs/pop runs/same_size history.csv "EPOCH\n")
recsys_cli_case(compare_changed_file RC 1 ONE_LINE NEEDS "cli_same_size;cli_mf"
                EXPECT "history.csv' does not match its sha256 in manifest.json" ARGS compare runs/same_size runs/mf)
recsys_cli_damage(damage_no_manifest cli_no_manifest cli_pop runs/pop runs/no_manifest manifest.json "<remove>")
recsys_cli_case(recommend_no_manifest RC 1 ONE_LINE NEEDS cli_no_manifest
                EXPECT "has no manifest.json: it was written by a recsys older than run manifests" ARGS recommend runs/no_manifest --user 1)
recsys_cli_damage(damage_bad_manifest cli_bad_manifest cli_pop runs/pop runs/bad_manifest manifest.json
                  "{\"format\": \"recsys-run-manifest\", \"version\": 1, \"identity\": {}, \"files\": [{\"path\": \"../config.json\"}]}")
recsys_cli_case(recommend_bad_manifest RC 1 ONE_LINE NEEDS cli_bad_manifest
                EXPECT "manifest.json' is not a valid run manifest: a \"files\" entry has no safe relative \"path\""
                ARGS recommend runs/bad_manifest --user 1)
# --out is checked before any data are read: exit 2 naming the problem
recsys_cli_case(train_out_is_file RC 2 ONE_LINE NEEDS cli_data EXPECT "--out '${RECSYS_CLI_DATA}/items.csv' is a file, not a run folder"
                ARGS train --model popularity --data data --out ${RECSYS_CLI_DATA}/items.csv)
recsys_cli_case(train_out_under_file RC 2 ONE_LINE NEEDS cli_data EXPECT "items.csv' is a file, not a folder"
                ARGS train --model popularity --data data --out ${RECSYS_CLI_DATA}/items.csv/run)
recsys_cli_case(train_out_not_a_run RC 2 ONE_LINE NEEDS cli_data EXPECT "is a folder that is not a run folder"
                ARGS train --model popularity --data data --out ${RECSYS_CLI_DATA})
recsys_cli_case(train_out_dot RC 2 ONE_LINE NEEDS cli_data EXPECT "is not a folder train can replace"
                ARGS train --model popularity --data data --out .)
recsys_cli_case(train_out_uncreatable RC 2 ONE_LINE NEEDS cli_data EXPECT "cannot create '/proc/recsys_nowhere'"
                ARGS train --model popularity --data data --out /proc/recsys_nowhere/run)
recsys_cli_case(train_out_unwritable RC 2 ONE_LINE NEEDS cli_data EXPECT "--out '/proc/self/run'"
                ARGS train --model popularity --data data --out /proc/self/run)

# ---- crashes while writing a run folder: SIGKILL at every step, a file-size limit, a full disk, two writers ----
add_test(NAME tools/run_folder_faults
         COMMAND bash ${PROJECT_SOURCE_DIR}/tests/tools/run_folder_faults.sh $<TARGET_FILE:recsys_cli>
                 ${CMAKE_CURRENT_BINARY_DIR}/run_folder_faults)
set_tests_properties(tools/run_folder_faults PROPERTIES ENVIRONMENT "OMP_NUM_THREADS=2" TIMEOUT 600 SKIP_RETURN_CODE 77)
add_test(NAME tools/run_folder_full_disk
         COMMAND bash ${PROJECT_SOURCE_DIR}/tests/tools/run_folder_full_disk.sh $<TARGET_FILE:recsys_cli>
                 ${CMAKE_CURRENT_BINARY_DIR}/run_folder_full_disk)
set_tests_properties(tools/run_folder_full_disk PROPERTIES ENVIRONMENT "OMP_NUM_THREADS=2" TIMEOUT 300 SKIP_RETURN_CODE 77)
