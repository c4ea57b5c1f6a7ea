// tools/recsys/stage.hpp — what the running command is doing now ("reading the data", "training mf"), so an error that carries no context of its own (out of memory) can still say where it happened.
#pragma once

#include <exception>
#include <string>
#include <utility>

namespace recsys::cli {

namespace stage_detail {
inline std::string& current() {
  static std::string now = "starting";
  return now;
}
}  // namespace stage_detail

/// What the command is doing now, as a phrase that follows "while" ("reading the data").
inline const std::string& current_stage() { return stage_detail::current(); }

/// Names the stage from now on (a command going from one step to the next).
inline void set_stage(std::string what) { stage_detail::current() = std::move(what); }

/// Names the stage from here until the end of the scope, then restores the enclosing one. The name is set
/// before the work begins, so it is already in place when that work runs out of memory.
class Stage {
 public:
  explicit Stage(std::string what) : previous_(std::move(stage_detail::current())) {
    stage_detail::current() = std::move(what);
  }
  Stage(const Stage&) = delete;
  Stage& operator=(const Stage&) = delete;
  ~Stage() {
    // Not restored while an exception unwinds: the handler must still see where it began.
    if (std::uncaught_exceptions() == 0) stage_detail::current() = std::move(previous_);
  }

 private:
  std::string previous_;
};

}  // namespace recsys::cli
