// recsys/train/history.hpp — per-epoch training and validation values, written as CSV and as an SVG chart.
#pragma once

#include <cstdio>
#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "recsys/core/error.hpp"
#include "recsys/train/svg_chart.hpp"

namespace recsys {

/// What fit() returns: one value per epoch for each key ("loss", "accuracy", "val_loss", ...), like
/// Keras's History.history. Keys keep the order in which they first appeared.
class History {
 public:
  void record(const std::string& key, double value) {
    auto it = index_.find(key);
    if (it == index_.end()) {
      index_.emplace(key, keys_.size());
      keys_.push_back(key);
      values_.emplace_back();
      it = index_.find(key);
    }
    values_[it->second].push_back(value);
  }

  const std::vector<std::string>& keys() const { return keys_; }
  bool has(const std::string& key) const { return index_.count(key) != 0; }
  const std::vector<double>& operator[](const std::string& key) const {
    auto it = index_.find(key);
    RECSYS_CHECK(it != index_.end(), "History: no values recorded for '", key, "'");
    return values_[it->second];
  }
  std::size_t epochs() const { return values_.empty() ? 0 : values_.front().size(); }

  /// "epoch,loss,accuracy,val_loss,..." then one row per epoch (epochs counted from 1).
  std::string to_csv() const {
    std::ostringstream os;
    os << "epoch";
    for (const auto& k : keys_) os << ',' << k;
    os << '\n';
    char buf[32];
    for (std::size_t e = 0; e < epochs(); ++e) {
      os << e + 1;
      for (const auto& v : values_) {
        std::snprintf(buf, sizeof buf, "%.6g", e < v.size() ? v[e] : 0.0);
        os << ',' << buf;
      }
      os << '\n';
    }
    return os.str();
  }

  /// Loss curves in one panel, every other metric in its own; validation curves dashed.
  std::string to_svg(const std::string& title = "training") const {
    std::vector<SvgPanel> panels;
    std::vector<std::string> bases;  // metric names without the val_ prefix, in order
    for (const auto& k : keys_) {
      const std::string base = k.rfind("val_", 0) == 0 ? k.substr(4) : k;
      if (std::find(bases.begin(), bases.end(), base) == bases.end()) bases.push_back(base);
    }
    for (const auto& base : bases) {
      SvgPanel panel{title + ": " + base, "epoch", base, {}};
      for (const std::string& key : {base, "val_" + base}) {
        if (!has(key)) continue;
        SvgSeries s{key == base ? "train" : "validation", {}, (*this)[key], key != base};
        for (std::size_t e = 0; e < s.y.size(); ++e) s.x.push_back(static_cast<double>(e + 1));
        panel.series.push_back(std::move(s));
      }
      panels.push_back(std::move(panel));
    }
    return render_svg(panels);
  }

 private:
  std::vector<std::string> keys_;
  std::map<std::string, std::size_t> index_;
  std::vector<std::vector<double>> values_;
};

}  // namespace recsys
