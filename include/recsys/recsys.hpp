// recsys/recsys.hpp — the umbrella header: everything the library offers.
#pragma once

#include "recsys/core/tensor.hpp"
#include "recsys/core/factory.hpp"
#include "recsys/core/random.hpp"
#include "recsys/autograd/gradcheck.hpp"
#include "recsys/ops/binary.hpp"
#include "recsys/ops/unary.hpp"
#include "recsys/ops/reduce.hpp"
#include "recsys/ops/matmul.hpp"
#include "recsys/ops/linear.hpp"
#include "recsys/ops/softmax.hpp"
#include "recsys/ops/loss.hpp"
#include "recsys/io/json.hpp"
#include "recsys/io/safetensors.hpp"
