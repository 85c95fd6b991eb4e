// OptimizerBase's state export and import (included by optimizer.hpp; templates live in headers).
#pragma once

#include <fmt/format.h>

namespace tg::optim {

template <class Options, class State>
requires OptimizerOptions<Options> && OptimizerState<State, Options> StateDict
OptimizerBase<Options, State>::state_dict()
const {
  StateDict out;
  int64_t index = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    Options options = groups_[g].options;
    options.for_each_field([&](const char* name, auto& value) {
      out[fmt::format("group.{}.{}", g, name)] =
          full({}, detail::field_value(value), {.dtype = Dtype::Float64});
    });
    const std::vector<int64_t> ids = group_indices(index, groups_[g].params.size());
    for (size_t i = 0; i < groups_[g].params.size(); ++i, ++index) {
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
requires OptimizerOptions<Options> && OptimizerState<State, Options>
void OptimizerBase<Options, State>::load_state_dict(const StateDict& dict) {
  // Build the complete new state first; nothing is changed unless all of it checks out.
  const std::string op = fmt::format("{}.load_state_dict", Options::kName);
  std::vector<Group> loaded = groups_;
  std::set<std::string> known;
  const auto key = [&](std::string name) { return *known.insert(std::move(name)).first; };
  int64_t index = 0;
  for (size_t g = 0; g < loaded.size(); ++g) {
    Group& group = loaded[g];
    group.options.for_each_field([&](const char* name, auto& value) {
      detail::read_field(dict, key(fmt::format("group.{}.{}", g, name)), value);
    });
    group.options.validate();
    const auto ids = dict.find(key(fmt::format("group.{}.params", g)));
    if (ids == dict.end() || ids->second.dtype() != Dtype::Int64 ||
        ids->second.template to_vector<int64_t>() != group_indices(index, group.params.size())) {
      fail("{}: 'group.{}.params' is missing or does not list parameters {}..{}", op, g, index,
           index + static_cast<int64_t>(group.params.size()) - 1);
    }
    for (size_t i = 0; i < group.params.size(); ++i, ++index) {
      State state;
      const std::string step = fmt::format("state.{}.step", index);
      if (dict.count(step) != 0) {
        state.init(group.params[i], group.options);
        state.ready = true;
        state.step = detail::read_count(dict, key(step));
        state.for_each_buffer([&](const char* name, Tensor& buffer) {
          const auto it = dict.find(key(fmt::format("state.{}.{}", index, name)));
          if (it == dict.end() || it->second.shape() != buffer.shape() ||
              it->second.dtype() != buffer.dtype()) {
            fail("{}: 'state.{}.{}' is missing or is not {} {}", op, index, name, buffer.dtype(),
                 shape_str(buffer.shape()));
          }
          buffer = it->second.detach().clone();
        });
      }
      group.states[i] = state;
    }
  }
  detail::check_known_keys(op.c_str(), dict, known);
  groups_ = std::move(loaded);
}

template <class Options, class State>
requires OptimizerOptions<Options> && OptimizerState<State, Options> std::vector<int64_t>
OptimizerBase<Options, State>::group_indices(int64_t first, size_t count) {
  std::vector<int64_t> ids(count);
  for (size_t i = 0; i < count; ++i) ids[i] = first + static_cast<int64_t>(i);
  return ids;
}

}  // namespace tg::optim
