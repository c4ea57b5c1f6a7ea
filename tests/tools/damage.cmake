# tests/tools/damage.cmake — copies run folder SRC to DST and overwrites DST/FILE with TEXT, for the recsys bad-file tests.
#   cmake -DSRC=dir -DDST=dir -DFILE=name -DTEXT=text [-DRESEAL=1] -P damage.cmake
# TEXT "<remove>" deletes FILE instead.
# RESEAL=1 also rewrites FILE's size and sha256 in DST/manifest.json, so that the damage gets past the
# manifest check and reaches the file's own parser (whose error the test then checks); without it the
# reader must refuse the folder at the manifest, naming FILE.
file(REMOVE_RECURSE "${DST}")
file(COPY "${SRC}/" DESTINATION "${DST}")
if(TEXT STREQUAL "<remove>")
  file(REMOVE "${DST}/${FILE}")
else()
  file(WRITE "${DST}/${FILE}" "${TEXT}")
endif()
if(RESEAL)
  file(READ "${DST}/manifest.json" manifest)
  string(JSON n LENGTH "${manifest}" files)
  math(EXPR last "${n} - 1")
  set(found FALSE)
  foreach(i RANGE ${last})
    string(JSON path GET "${manifest}" files ${i} path)
    if(path STREQUAL FILE)
      file(SIZE "${DST}/${FILE}" size)
      file(SHA256 "${DST}/${FILE}" sha)
      string(JSON manifest SET "${manifest}" files ${i} size "${size}")
      string(JSON manifest SET "${manifest}" files ${i} sha256 "\"${sha}\"")
      set(found TRUE)
    endif()
  endforeach()
  if(NOT found)
    message(FATAL_ERROR "damage.cmake: ${FILE} is not listed in ${DST}/manifest.json")
  endif()
  file(WRITE "${DST}/manifest.json" "${manifest}")
endif()
