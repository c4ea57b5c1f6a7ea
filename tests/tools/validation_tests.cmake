# tests/tools/validation_tests.cmake — process tests of issue 18's checks (included from cli_tests.cmake): every
# usage mistake exits 2, --version and `recsys help COMMAND`, --threads clamped, ratings that are not finite or
# off the scale named by file, line and column (or skipped and counted), a diverging fit stopped with advice, and
# --eval cv refused before its first fold when a class is missing. Uses recsys_cli_case and the cli_data fixture.

# ---- usage mistakes: status 2, one line ----
recsys_cli_case(version RC 0 EXPECT "recsys ${PROJECT_VERSION}" ARGS --version)
recsys_cli_case(help_command RC 0 EXPECT "usage: recsys train" ARGS help train)
recsys_cli_case(help_unknown_command RC 2 ONE_LINE EXPECT "recsys help: unknown command 'fit'" ARGS help fit)
recsys_cli_case(usage_device_cuda RC 2 ONE_LINE EXPECT "--device cuda: this recsys binary was built for the CPU only"
                ARGS train --model mf --data nowhere --device cuda)
recsys_cli_case(usage_compare_metric RC 2 ONE_LINE
                EXPECT "--metric must be accuracy, auc, rmse, mae, mrr, hr@K, recall@K or ndcg@K, got 'foo'"
                ARGS compare runs/none runs/none --metric foo)
recsys_cli_case(usage_cv_popularity RC 2 ONE_LINE EXPECT "--eval cv scores like predictions, which popularity does not"
                ARGS train --model popularity --data nowhere --eval cv)
recsys_cli_case(usage_ranking_review RC 2 ONE_LINE EXPECT "--eval leave-last-out ranks each user's items, and review"
                ARGS train --model review --data nowhere --eval leave-last-out)
recsys_cli_case(usage_generate_too_many RC 2 ONE_LINE
                EXPECT "--ratings 1000 do not fit 10 users rating at most 5 of 10 movies each"
                ARGS generate --out too_many --users 10 --items 10 --ratings 1000)
recsys_cli_case(usage_generate_duplicate_rate RC 2 ONE_LINE EXPECT "--duplicate-rate must lie in [0, 0.5], got 0.7"
                ARGS generate --out too_many --duplicate-rate 0.7)
recsys_cli_case(usage_rating_scale RC 2 ONE_LINE EXPECT "--rating-scale expects LO:HI with two finite numbers"
                ARGS clean --users ${RECSYS_CLI_DATA}/nonfinite_ratings.csv --items ${RECSYS_CLI_DATA}/items.csv
                --rating-scale 5)
recsys_cli_case(usage_rating_scale_order RC 2 ONE_LINE EXPECT "--rating-scale 5:1: LO must not exceed HI"
                ARGS clean --users ${RECSYS_CLI_DATA}/nonfinite_ratings.csv --items ${RECSYS_CLI_DATA}/items.csv
                --rating-scale 5:1)
recsys_cli_case(usage_on_bad_row RC 2 ONE_LINE EXPECT "--on-bad-row must be one of error, skip, got 'ignore'"
                ARGS clean --users ${RECSYS_CLI_DATA}/nonfinite_ratings.csv --items ${RECSYS_CLI_DATA}/items.csv
                --on-bad-row ignore)
recsys_cli_case(threads_clamped RC 0 STREAM stderr EXPECT "WARNING: --threads 4096 exceeds the"
                ARGS generate --out threads_data --users 20 --items 30 --ratings 200 --threads 4096)

# ---- ratings: finite and on the scale ----
recsys_cli_case(bad_rating_inf RC 1 ONE_LINE
                EXPECT "nonfinite_ratings.csv' line 5, column 3 ('rating'): inf is not a finite rating (3 bad rows in all)"
                ARGS train --model popularity --users ${RECSYS_CLI_DATA}/nonfinite_ratings.csv
                --items ${RECSYS_CLI_DATA}/items.csv --eval none --out runs/never)
recsys_cli_case(bad_rating_off_scale RC 1 ONE_LINE EXPECT "(4 bad rows in all); fix the data, give the rating scale, or skip bad rows (--rating-scale LO:HI, --on-bad-row skip)"
                ARGS clean --users ${RECSYS_CLI_DATA}/nonfinite_ratings.csv --items ${RECSYS_CLI_DATA}/items.csv
                --rating-scale 1:5)
recsys_cli_case(bad_rating_skipped RC 0 EXPECT "line 9, column 3 ('rating'): 7 is outside the rating scale 1:5"
                ARGS clean --users ${RECSYS_CLI_DATA}/nonfinite_ratings.csv --items ${RECSYS_CLI_DATA}/items.csv
                --rating-scale 1:5 --on-bad-row skip)
recsys_cli_case(rating_scale_inferred RC 0 EXPECT "rating scale 1:7 (inferred"
                ARGS clean --users ${RECSYS_CLI_DATA}/nonfinite_ratings.csv --items ${RECSYS_CLI_DATA}/items.csv
                --on-bad-row skip)
recsys_cli_case(train_skips_bad_rows RC 0 EXPECT "cleaning: skipped 4 bad rows"
                ARGS train --model popularity --users ${RECSYS_CLI_DATA}/nonfinite_ratings.csv
                --items ${RECSYS_CLI_DATA}/items.csv --eval none --rating-scale 1:5 --on-bad-row skip
                --out runs/skipped --quiet)

# ---- numerical guards ----
recsys_cli_case(train_diverges RC 1 ONE_LINE NEEDS cli_data
                EXPECT "training diverged; lower the learning rate (--lr, now 1e+06)"
                ARGS train --model mf --data data --optimizer sgd --lr 1e6 --epochs 20 --eval none --out runs/diverged
                --quiet)
recsys_cli_case(cv_one_class RC 1 ONE_LINE
                EXPECT "cross_validate: 5-fold cross-validation needs at least 5 liked and 5 not-liked interactions"
                ARGS train --model mf --users ${RECSYS_CLI_DATA}/all_liked.csv --items ${RECSYS_CLI_DATA}/items.csv
                --eval cv --out runs/cv_one_class --quiet)
