// OptimizerBase's state export and import (included by optimizer.hpp; templates live in headers).
#pragma once

#include <fmt/format.h>

namespace tg::optim {

template <class Options, class State>
StateDict OptimizerBase<Options, State>::state_dict() const {
  StateDict out;
  int64_t index = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    Options options = groups_[g].options;
    options.for_each_field([&](const char* name, auto& value) {
      out[fmt::format("group.{}.{}", g, name)] =
          full({}, static_cast<double>(value), {.dtype = Dtype::Float64});
    });
    std::vector<int64_t> ids;
    for (size_t i = 0; i < groups_[g].params.size(); ++i, ++index) {
      ids.push_back(index);
      State state = groups_[g].states[i];  // handles are cheap; buffers are cloned below
      if (!state.ready) continue;
      out[fmt::format("state.{}.step", index)] =
          full({}, static_cast<double>(state.step), {.dtype = Dtype::Int64});
      state.for_each_buffer([&](const char* name, Tensor& buffer) {
        out[fmt::format("state.{}.{}", index, name)] = buffer.detach().clone();
      });
    }
    out[fmt::format("group.{}.params", g)] =
        from_vector<int64_t>(ids, {static_cast<int64_t>(ids.size())});
  }
  return out;
}

template <class Options, class State>
void OptimizerBase<Options, State>::load_state_dict(const StateDict& dict) {
  // Build the complete new state first; nothing is changed unless all of it checks out.
  std::vector<Group> loaded = groups_;
  int64_t index = 0;
  for (size_t g = 0; g < loaded.size(); ++g) {
    Group& group = loaded[g];
    group.options.for_each_field([&](const char* name, auto& value) {
      const double stored = detail::read_scalar(dict, fmt::format("group.{}.{}", g, name));
      value = static_cast<std::remove_reference_t<decltype(value)>>(stored);
    });
    group.options.validate();
    const auto ids = dict.find(fmt::format("group.{}.params", g));
    if (ids == dict.end() || ids->second.numel() != static_cast<int64_t>(group.params.size())) {
      fail("{}.load_state_dict: group {} does not hold {} parameters", Options::kName, g,
           group.params.size());
    }
    for (size_t i = 0; i < group.params.size(); ++i, ++index) {
      State state;
      if (dict.count(fmt::format("state.{}.step", index)) != 0) {
        state.init(group.params[i], group.options);
        state.ready = true;
        state.step =
            static_cast<int64_t>(detail::read_scalar(dict, fmt::format("state.{}.step", index)));
        state.for_each_buffer([&](const char* name, Tensor& buffer) {
          const std::string key = fmt::format("state.{}.{}", index, name);
          const auto it = dict.find(key);
          if (it == dict.end() || it->second.shape() != buffer.shape() ||
              it->second.dtype() != buffer.dtype()) {
            fail("{}.load_state_dict: '{}' is missing or is not {} {}", Options::kName, key,
                 buffer.dtype(), shape_str(buffer.shape()));
          }
          buffer = it->second.detach().clone();
        });
      }
      group.states[i] = state;
    }
  }
  if (dict.count(fmt::format("group.{}.params", loaded.size())) != 0) {
    fail("{}.load_state_dict: the state has more than {} parameter groups", Options::kName,
         loaded.size());
  }
  groups_ = std::move(loaded);
}

}  // namespace tg::optim
