// tools/recsys/distributed.hpp — `recsys train --distributed` under mpirun: the MPI world when this binary was built with recsys::mpi, which models train data-parallel, and ending every rank when one fails.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "args.hpp"
#include "recsys/dist/communicator.hpp"

#ifdef RECSYS_HAVE_MPI  // defined for this program only (tools/CMakeLists.txt), never for the library headers
#include "recsys/dist/mpi_communicator.hpp"
#endif

namespace recsys::cli {

/// How many processes a launcher started this one among (mpirun's OMPI_COMM_WORLD_SIZE, MPICH/Slurm's
/// PMI_SIZE); 1 when none did.
inline int launched_processes() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (const char* v = std::getenv(var); v != nullptr && *v != '\0') return std::max(1, std::atoi(v));
  return 1;
}

/// The models whose training loop is train::Model::fit, which is data-parallel over dist::world().
inline bool trains_data_parallel(const std::string& kind) { return kind == "review" || kind == "sequence"; }

/// The group `recsys train` runs on: one process without --distributed (refused when mpirun started
/// several, which would all write the same run folder), the MPI world with it.
inline std::shared_ptr<dist::Communicator> start_group(const Args& args, const std::string& kind) {
  const int launched = launched_processes();
  if (!args.flag("distributed")) {
    if (launched > 1)
      throw UsageError("started as one of " + std::to_string(launched) +
                       " processes (mpirun); add --distributed to train one model on all of them");
    return nullptr;
  }
  if (!trains_data_parallel(kind))
    throw UsageError("--distributed trains review and sequence (the CNN-LSTM, train::Model) data-parallel; " + kind +
                     " trains in one process");
#ifdef RECSYS_HAVE_MPI
  return std::make_shared<dist::MpiCommunicator>();
#else
  throw UsageError("--distributed: this recsys binary was built without MPI (apt-get install libopenmpi-dev "
                   "openmpi-bin, then rebuild)");
#endif
}

}  // namespace recsys::cli
