#pragma once

/// The umbrella header: everything a program needs.
#include <tapegrad/autograd.hpp>
#include <tapegrad/dtype.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/format.hpp>
#include <tapegrad/nn/activation.hpp>
#include <tapegrad/nn/clip_grad.hpp>
#include <tapegrad/nn/init.hpp>
#include <tapegrad/nn/linear.hpp>
#include <tapegrad/nn/loss.hpp>
#include <tapegrad/nn/module.hpp>
#include <tapegrad/nn/sequential.hpp>
#include <tapegrad/ops.hpp>
#include <tapegrad/optim/adagrad.hpp>
#include <tapegrad/optim/adam.hpp>
#include <tapegrad/optim/momentum.hpp>
#include <tapegrad/optim/optimizer.hpp>
#include <tapegrad/optim/rmsprop.hpp>
#include <tapegrad/optim/scheduler.hpp>
#include <tapegrad/optim/sgd.hpp>
#include <tapegrad/random.hpp>
#include <tapegrad/shape.hpp>
#include <tapegrad/tensor.hpp>
