# tests/tools/damage.cmake — copies run folder SRC to DST and overwrites DST/FILE with TEXT, for the recsys bad-file tests.
file(REMOVE_RECURSE "${DST}")
file(COPY "${SRC}/" DESTINATION "${DST}")
file(WRITE "${DST}/${FILE}" "${TEXT}")
