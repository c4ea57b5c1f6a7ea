// recsys/train/progress.hpp — a Keras-style progress bar: "12/250 [=>....] - ETA: 21s - loss: 0.6931".
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

namespace recsys {

/// Named running values shown after the bar, in order ("loss", "accuracy", ...).
using ProgressValues = std::vector<std::pair<std::string, double>>;

/// Draws one progress line per epoch. On a terminal the line is redrawn in place (at most ten times
/// a second); when output goes to a file or pipe a plain line is printed every 10 s (plain_interval)
/// and then the finished line, so logs stay readable and a long epoch is not silent. verbose 0 prints nothing, 1 the bar, 2 only the finished line.
class ProgressBar {
 public:
  ProgressBar(std::int64_t total_steps, int verbose = 1, std::FILE* out = stdout)
      : total_(total_steps), verbose_(verbose), out_(out), interactive_(isatty(fileno(out)) != 0),
        start_(Clock::now()), last_draw_(start_) {}

  /// Reports that `step` steps (1-based) are done; redraws if it is time to.
  void update(std::int64_t step, const ProgressValues& values) {
    if (verbose_ != 1) return;
    const auto now = Clock::now();
    if (!interactive_) {
      // A file or pipe gets a plain line now and then (plain_interval), so a long epoch still shows that
      // it is moving; the finished line follows as on a terminal.
      if (step >= total_ || now - last_draw_ < plain_interval()) return;
      last_draw_ = now;
      const double elapsed = seconds_since_start(now);
      const double eta = step > 0 ? elapsed / static_cast<double>(step) * static_cast<double>(total_ - step) : 0;
      std::fprintf(out_, "%s - %s elapsed - ETA: %s%s\n", bar(step).c_str(), format_duration(elapsed).c_str(),
                   format_duration(eta).c_str(), format_values(values).c_str());
      std::fflush(out_);
      return;
    }
    if (step < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const double elapsed = seconds_since_start(now);
    const double eta = step > 0 ? elapsed / static_cast<double>(step) * static_cast<double>(total_ - step) : 0;
    std::fprintf(out_, "\r%s - ETA: %s%s\033[K", bar(step).c_str(), format_duration(eta).c_str(),
                 format_values(values).c_str());
    std::fflush(out_);
  }

  /// Prints the finished line: total time and time per step, then the epoch's values.
  void finish(const ProgressValues& values) {
    if (verbose_ == 0) return;
    const double elapsed = seconds_since_start(Clock::now());
    const double per_step_ms = total_ > 0 ? elapsed * 1000.0 / static_cast<double>(total_) : 0.0;
    const std::string head = verbose_ == 1 ? bar(total_) + " - " : std::string();
    std::fprintf(out_, "%s%s%s %.0fms/step%s%s\n", interactive_ && verbose_ == 1 ? "\r" : "", head.c_str(),
                 format_duration(elapsed).c_str(), per_step_ms, format_values(values).c_str(),
                 interactive_ && verbose_ == 1 ? "\033[K" : "");
    std::fflush(out_);
  }

  /// How often a plain progress line is printed when the output is not a terminal: every 10 s, or every
  /// RECSYS_PROGRESS_SECONDS seconds when that is set (read once; tests set it low).
  static std::chrono::milliseconds plain_interval() {
    static const std::chrono::milliseconds every = [] {
      const char* env = std::getenv("RECSYS_PROGRESS_SECONDS");
      const double s = env != nullptr ? std::atof(env) : 0.0;
      return std::chrono::milliseconds(s > 0 ? static_cast<std::int64_t>(s * 1000) : 10000);
    }();
    return every;
  }

  static std::string format_duration(double seconds) {
    char buf[32];
    if (seconds < 60) std::snprintf(buf, sizeof buf, "%.0fs", seconds);
    else if (seconds < 3600) std::snprintf(buf, sizeof buf, "%d:%02d", static_cast<int>(seconds) / 60, static_cast<int>(seconds) % 60);
    else std::snprintf(buf, sizeof buf, "%d:%02d:%02d", static_cast<int>(seconds) / 3600, static_cast<int>(seconds) / 60 % 60, static_cast<int>(seconds) % 60);
    return buf;
  }

  static std::string format_values(const ProgressValues& values) {
    std::string s;
    char buf[96];
    for (const auto& [name, v] : values) {
      std::snprintf(buf, sizeof buf, " - %s: %.4f", name.c_str(), v);
      s += buf;
    }
    return s;
  }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr int kWidth = 30;

  double seconds_since_start(Clock::time_point now) const {
    return std::chrono::duration<double>(now - start_).count();
  }

  /// " 12/250 [=>............................]"
  std::string bar(std::int64_t step) const {
    const int digits = static_cast<int>(std::to_string(total_).size());
    const int filled = total_ > 0 ? static_cast<int>(kWidth * step / total_) : kWidth;
    std::string b(static_cast<std::size_t>(kWidth), '.');
    for (int i = 0; i < filled; ++i) b[static_cast<std::size_t>(i)] = '=';
    if (filled < kWidth && step > 0) b[static_cast<std::size_t>(filled)] = '>';
    char buf[64];
    std::snprintf(buf, sizeof buf, "%*lld/%lld", digits, static_cast<long long>(step), static_cast<long long>(total_));
    return std::string(buf) + " [" + b + "]";
  }

  std::int64_t total_;
  int verbose_;
  std::FILE* out_;
  bool interactive_;
  Clock::time_point start_, last_draw_;
};

}  // namespace recsys
