# bench/extra.cmake — optional benchmark folders; bench/CMakeLists.txt includes this file when it exists.
if(RECSYS_ENABLE_CUDA AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/cuda/CMakeLists.txt)
  add_subdirectory(cuda)
endif()
