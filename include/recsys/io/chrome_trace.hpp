// recsys/io/chrome_trace.hpp — a profiler::Report's timeline in the Chrome trace format, for ui.perfetto.dev or chrome://tracing.
#pragma once

#include <cstdio>
#include <map>
#include <string>

#include "recsys/core/profiler.hpp"
#include "recsys/io/json.hpp"

namespace recsys::io {

/// The timeline as Chrome trace JSON: one track per host thread under "cpu", one per GPU under "cuda:N";
/// each call a complete ("X") event named after its kernel, with its scope as category.
inline std::string chrome_trace(const profiler::Report& report) {
  auto pid = [](Device d) { return d.is_cpu() ? 0 : 1 + d.index; };
  std::string out = "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n";
  std::map<int, std::string> processes;
  for (const profiler::TraceEvent& e : report.timeline) processes.emplace(pid(e.device), to_string(e.device));
  char buf[160];
  bool first = true;
  for (const auto& [id, name] : processes) {
    out += first ? "" : ",\n";
    first = false;
    std::snprintf(buf, sizeof buf, "{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": %d, \"args\": {\"name\": ", id);
    out += buf;
    json::detail::write_string(out, name);
    out += "}}";
  }
  for (const profiler::TraceEvent& e : report.timeline) {
    out += first ? "" : ",\n";
    first = false;
    out += "{\"name\": ";
    json::detail::write_string(out, e.kernel);
    out += ", \"cat\": ";
    json::detail::write_string(out, e.scope);
    std::snprintf(buf, sizeof buf, ", \"ph\": \"X\", \"pid\": %d, \"tid\": %d, \"ts\": %.3f, \"dur\": %.3f", pid(e.device),
                  e.device.is_cpu() ? e.thread : 0, e.start_ms * 1e3, e.duration_ms * 1e3);
    out += buf;
    out += ", \"args\": {\"scope\": ";
    json::detail::write_string(out, e.scope);
    out += "}}";
  }
  return out + "\n]}\n";
}

}  // namespace recsys::io
