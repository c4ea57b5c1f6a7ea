// recsys/recsys.hpp — the umbrella header: everything the library offers, in dependency order.
#pragma once

// core: tensors, random numbers, factories
#include "recsys/core/tensor.hpp"
#include "recsys/core/factory.hpp"
#include "recsys/core/random.hpp"
#include "recsys/core/profiler.hpp"
#include "recsys/autograd/gradcheck.hpp"

// ops: differentiable functions on tensors
#include "recsys/ops/binary.hpp"
#include "recsys/ops/unary.hpp"
#include "recsys/ops/reduce.hpp"
#include "recsys/ops/matmul.hpp"
#include "recsys/ops/linear.hpp"
#include "recsys/ops/softmax.hpp"
#include "recsys/ops/layer_norm.hpp"
#include "recsys/ops/gelu.hpp"
#include "recsys/ops/attention.hpp"
#include "recsys/ops/loss.hpp"
#include "recsys/ops/embedding.hpp"
#include "recsys/ops/conv1d.hpp"
#include "recsys/ops/embedding_conv1d.hpp"
#include "recsys/ops/maxpool1d.hpp"
#include "recsys/ops/lstm.hpp"
#include "recsys/ops/dropout.hpp"

// nn: layers and models
#include "recsys/nn/module.hpp"
#include "recsys/nn/sequential.hpp"
#include "recsys/nn/dense.hpp"
#include "recsys/nn/embedding.hpp"
#include "recsys/nn/conv1d.hpp"
#include "recsys/nn/maxpool1d.hpp"
#include "recsys/nn/lstm.hpp"
#include "recsys/nn/dropout.hpp"
#include "recsys/nn/layer_norm.hpp"
#include "recsys/nn/attention.hpp"
#include "recsys/nn/transformer.hpp"
#include "recsys/nn/serialize.hpp"

// optim: optimizers, clipping, schedules
#include "recsys/optim/sgd.hpp"
#include "recsys/optim/adam.hpp"
#include "recsys/optim/clip_grad.hpp"
#include "recsys/optim/lr_scheduler.hpp"

// io: JSON, weight files, checkpoints
#include "recsys/io/json.hpp"
#include "recsys/io/safetensors.hpp"
#include "recsys/io/checkpoint.hpp"
#include "recsys/io/chrome_trace.hpp"

// train: progress, history, charts
#include "recsys/train/progress.hpp"
#include "recsys/train/history.hpp"
#include "recsys/train/svg_chart.hpp"
#include "recsys/train/model.hpp"
#include "recsys/train/callbacks.hpp"
#include "recsys/train/token_task.hpp"

// dist: communicators (one process, threads; MPI in recsys/dist/mpi_communicator.hpp, target recsys::mpi), data-parallel
#include "recsys/dist/communicator.hpp"
#include "recsys/dist/thread_group.hpp"
#include "recsys/dist/data_parallel.hpp"

// data: CSV, tables, text, splits, batches, the synthetic movie site
#include "recsys/data/csv.hpp"
#include "recsys/data/table.hpp"
#include "recsys/data/text.hpp"
#include "recsys/data/vectorizer.hpp"
#include "recsys/data/split.hpp"
#include "recsys/data/loader.hpp"
#include "recsys/data/synthetic.hpp"

// metrics
#include "recsys/metrics/classification.hpp"
#include "recsys/metrics/regression.hpp"
#include "recsys/metrics/ranking.hpp"
#include "recsys/metrics/ab_test.hpp"

// rec: recommenders, their data sets and evaluation protocols
#include "recsys/rec/dataset.hpp"
#include "recsys/rec/recommender.hpp"
#include "recsys/rec/evaluation.hpp"
