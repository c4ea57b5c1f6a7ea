// tools/serve/metrics.hpp — the server's counters (requests and errors by endpoint and status, a latency histogram per endpoint, reloads) and their Prometheus text exposition.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace recsys::serve {

/// Counters under one mutex: a request takes it once to record itself, a scrape once to read all.
/// Endpoints are the server's own route names (never the raw path, so a client cannot grow the label set).
class Metrics {
 public:
  /// Upper bounds of the latency buckets, seconds (Prometheus "le"; +Inf is implied).
  static constexpr std::array<double, 14> kBuckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                   0.025,  0.05,    0.1,    0.25,  0.5,   1,     2.5};

  void record(const std::string& endpoint, int status, double seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++requests_[{endpoint, status}];
    Histogram& h = latency_[endpoint];
    std::size_t b = 0;
    while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
    ++h.counts[b];
    h.sum += seconds;
    ++h.count;
  }
  void reload_succeeded(std::uint64_t version) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++reloads_;
    last_reload_ok_ = true;
    version_ = version;
  }
  void reload_failed(std::string message) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++reload_failures_;
    last_reload_ok_ = false;
    last_reload_error_ = std::move(message);
  }
  void set_model(std::uint64_t version, std::vector<std::pair<std::string, std::string>> info_labels) {
    std::lock_guard<std::mutex> lock(mutex_);
    version_ = version;
    info_labels_ = std::move(info_labels);
  }
  /// Requests answered with `status` on `endpoint` so far.
  std::uint64_t requests(const std::string& endpoint, int status) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = requests_.find({endpoint, status});
    return it == requests_.end() ? 0 : it->second;
  }

  /// The Prometheus text format (version 0.0.4). `in_flight` is sampled by the caller.
  std::string text(std::int64_t in_flight) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out;
    out += "# HELP recsys_requests_total HTTP requests answered, by endpoint and status code.\n";
    out += "# TYPE recsys_requests_total counter\n";
    for (const auto& [key, n] : requests_)
      out += "recsys_requests_total{endpoint=\"" + key.first + "\",code=\"" + std::to_string(key.second) + "\"} " +
             std::to_string(n) + "\n";
    out += "# HELP recsys_request_errors_total Requests answered with a 4xx or 5xx status, by endpoint and code.\n";
    out += "# TYPE recsys_request_errors_total counter\n";
    for (const auto& [key, n] : requests_)
      if (key.second >= 400)
        out += "recsys_request_errors_total{endpoint=\"" + key.first + "\",code=\"" + std::to_string(key.second) +
               "\"} " + std::to_string(n) + "\n";
    out += "# HELP recsys_request_duration_seconds Time from the request's arrival to its answer.\n";
    out += "# TYPE recsys_request_duration_seconds histogram\n";
    for (const auto& [endpoint, h] : latency_) {
      std::uint64_t cumulative = 0;
      for (std::size_t b = 0; b <= kBuckets.size(); ++b) {
        cumulative += h.counts[b];
        out += "recsys_request_duration_seconds_bucket{endpoint=\"" + endpoint + "\",le=\"" +
               (b < kBuckets.size() ? number(kBuckets[b]) : std::string("+Inf")) + "\"} " + std::to_string(cumulative) +
               "\n";
      }
      out += "recsys_request_duration_seconds_sum{endpoint=\"" + endpoint + "\"} " + number(h.sum) + "\n";
      out += "recsys_request_duration_seconds_count{endpoint=\"" + endpoint + "\"} " + std::to_string(h.count) + "\n";
    }
    out += "# HELP recsys_requests_in_flight Requests being answered now.\n# TYPE recsys_requests_in_flight gauge\n";
    out += "recsys_requests_in_flight " + std::to_string(in_flight) + "\n";
    out += "# HELP recsys_model_version Loads of the run folder that are serving (1 at start, +1 per good reload).\n";
    out += "# TYPE recsys_model_version gauge\nrecsys_model_version " + std::to_string(version_) + "\n";
    out += "# HELP recsys_model_info The run being served.\n# TYPE recsys_model_info gauge\nrecsys_model_info{";
    for (std::size_t k = 0; k < info_labels_.size(); ++k)
      out += (k ? "," : "") + info_labels_[k].first + "=\"" + escape(info_labels_[k].second) + "\"";
    out += "} 1\n";
    out += "# HELP recsys_model_reloads_total Successful reloads of the run folder.\n";
    out += "# TYPE recsys_model_reloads_total counter\nrecsys_model_reloads_total " + std::to_string(reloads_) + "\n";
    out += "# HELP recsys_model_reload_failures_total Reloads that failed (the previous model kept serving).\n";
    out += "# TYPE recsys_model_reload_failures_total counter\nrecsys_model_reload_failures_total " +
           std::to_string(reload_failures_) + "\n";
    out += "# HELP recsys_model_last_reload_ok 1 if the last reload succeeded (or none was tried), 0 if it failed.\n";
    out += "# TYPE recsys_model_last_reload_ok gauge\nrecsys_model_last_reload_ok " +
           std::string(last_reload_ok_ ? "1" : "0") + "\n";
    if (!last_reload_ok_) {
      out += "# HELP recsys_model_last_reload_error Why the last reload failed.\n";
      out += "# TYPE recsys_model_last_reload_error gauge\nrecsys_model_last_reload_error{message=\"" +
             escape(last_reload_error_) + "\"} 1\n";
    }
    return out;
  }

  /// A label value with \, " and line breaks escaped as the text format requires.
  static std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '\\' || c == '"') out += '\\', out += c;
      else if (c == '\n') out += "\\n";
      else if (static_cast<unsigned char>(c) < 0x20) out += ' ';
      else out += c;
    }
    return out;
  }

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size() + 1> counts{};
    double sum = 0;
    std::uint64_t count = 0;
  };
  static std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
  }

  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::uint64_t version_ = 0, reloads_ = 0, reload_failures_ = 0;
  bool last_reload_ok_ = true;
  std::string last_reload_error_;
  std::vector<std::pair<std::string, std::string>> info_labels_;
};

}  // namespace recsys::serve
