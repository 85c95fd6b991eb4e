#pragma once

/// The umbrella header: everything a program needs.
#include <tapegrad/autograd.hpp>
#include <tapegrad/dtype.hpp>
#include <tapegrad/error.hpp>
#include <tapegrad/format.hpp>
#include <tapegrad/ops.hpp>
#include <tapegrad/random.hpp>
#include <tapegrad/shape.hpp>
#include <tapegrad/tensor.hpp>
