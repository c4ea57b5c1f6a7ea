// recsys/core/tensor.hpp — include this for Tensor: the class, autograd, views and copies, all defined.
#pragma once

// Order matters: the class first, then the autograd graph node that holds Tensors, then the headers
// that define Tensor's member functions (each of them includes this file first, so any of them can
// also be included on its own).
#include "recsys/core/tensor_decl.hpp"
#include "recsys/autograd/node.hpp"
#include "recsys/autograd/engine.hpp"
#include "recsys/ops/copy.hpp"
#include "recsys/ops/view.hpp"
#include "recsys/core/factory.hpp"
#include "recsys/core/print.hpp"
#include "recsys/ops/binary.hpp"  // the engine accumulates gradients with add
