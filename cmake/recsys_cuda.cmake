# cmake/recsys_cuda.cmake — the CUDA backend: the INTERFACE target recsys::cuda (kernels/ headers, CUDA runtime). Included when RECSYS_ENABLE_CUDA is ON.
# Our kernels target Hopper (sm_90) unless the user chose architectures (-DCMAKE_CUDA_ARCHITECTURES=...).
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES 90)
endif()
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)

add_library(recsys_cuda INTERFACE)
add_library(recsys::cuda ALIAS recsys_cuda)
set_target_properties(recsys_cuda PROPERTIES EXPORT_NAME cuda)
target_include_directories(recsys_cuda INTERFACE
  $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/kernels>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
# The static runtime keeps programs free of a libcudart.so dependency (they run wherever a driver is).
target_link_libraries(recsys_cuda INTERFACE recsys::recsys CUDA::cudart_static)
# Our headers call constexpr helpers from host-device code (--expt-relaxed-constexpr). The CPU
# kernels that a .cu file instantiates must be built with OpenMP too, or the linker could keep a
# single-threaded copy of an inline function that C++ files compiled with OpenMP.
# C++20 is asked for as a flag: CMake releases older than 3.29 do not know nvcc 13's language levels.
target_compile_options(recsys_cuda INTERFACE
  $<$<COMPILE_LANGUAGE:CUDA>:-std=c++20>
  $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr>
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-fopenmp>)

install(TARGETS recsys_cuda EXPORT recsysCudaTargets)
install(DIRECTORY kernels/recsys DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT recsysCudaTargets NAMESPACE recsys:: DESTINATION ${CMAKE_INSTALL_DATADIR}/recsys/cmake)

# The tests and benchmarks compile the op headers with nvcc (through kernels/recsys/cuda/enable.cuh).
# nvcc's front end rejects some valid C++20 (e.g. a template lambda inside an out-of-class member
# template that has a default template argument), so check first and leave them out with a clear
# message rather than break the whole build.
set(_recsys_nvcc_check_dir ${CMAKE_CURRENT_BINARY_DIR}/recsys_nvcc_check)
file(WRITE ${_recsys_nvcc_check_dir}/check.cu
  "#include \"recsys/core/tensor.hpp\"\n#include \"recsys/ops/loss.hpp\"\n#include \"recsys/ops/matmul.hpp\"\n"
  "#include \"recsys/ops/unary.hpp\"\nint main() { return recsys::ones({2}).numel() == 2 ? 0 : 1; }\n")
unset(RECSYS_NVCC_READS_HEADERS CACHE)  # re-check on every configure: the headers change
try_compile(RECSYS_NVCC_READS_HEADERS ${_recsys_nvcc_check_dir} ${_recsys_nvcc_check_dir}/check.cu
  CMAKE_FLAGS "-DINCLUDE_DIRECTORIES=${CMAKE_CURRENT_SOURCE_DIR}/include" "-DCMAKE_CUDA_ARCHITECTURES=${CMAKE_CUDA_ARCHITECTURES}"
  COMPILE_DEFINITIONS -std=c++20 --expt-relaxed-constexpr
  OUTPUT_VARIABLE _recsys_nvcc_check_log)
if(NOT RECSYS_NVCC_READS_HEADERS)
  string(REGEX MATCH "[^\n]*error[^\n]*" _recsys_nvcc_first_error "${_recsys_nvcc_check_log}")
  message(WARNING "recsys: nvcc cannot compile the op headers, so the CUDA tests and benchmarks are not built. "
    "First error: ${_recsys_nvcc_first_error}")
endif()

# What the CUDA tests and benchmarks share: one .cu file that calls recsys::cuda::enable(). It is the
# only translation unit nvcc compiles; everything else is plain C++ that reaches the kernels through slots.
if((RECSYS_BUILD_TESTS OR RECSYS_BUILD_BENCH) AND RECSYS_NVCC_READS_HEADERS)
  add_library(recsys_cuda_enable OBJECT ${CMAKE_CURRENT_SOURCE_DIR}/tests/cuda/cuda_enable.cu)
  target_link_libraries(recsys_cuda_enable PUBLIC recsys::cuda)
  # cuBLAS and cuDNN serve as reference backends in tests and benchmarks only.
  find_library(RECSYS_CUDNN_LIBRARY cudnn HINTS ${CUDAToolkit_LIBRARY_DIR} ${CUDAToolkit_LIBRARY_ROOT}/lib)
  find_path(RECSYS_CUDNN_INCLUDE_DIR cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
  if(RECSYS_CUDNN_LIBRARY AND RECSYS_CUDNN_INCLUDE_DIR)
    add_library(recsys_cudnn INTERFACE)
    target_link_libraries(recsys_cudnn INTERFACE ${RECSYS_CUDNN_LIBRARY})
    target_include_directories(recsys_cudnn INTERFACE ${RECSYS_CUDNN_INCLUDE_DIR})
    target_compile_definitions(recsys_cudnn INTERFACE RECSYS_HAVE_CUDNN=1)
  else()
    message(STATUS "recsys: cuDNN not found; the cuDNN reference comparisons are left out")
  endif()
endif()
