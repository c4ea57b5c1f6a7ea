// recsys/train/svg_chart.hpp — charts as standalone SVG: line charts (training curves, benchmark series) and stacked bars (a profile).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "recsys/core/profiler.hpp"

namespace recsys {

/// One line of a chart.
struct SvgSeries {
  std::string label;
  std::vector<double> x, y;
  bool dashed = false;
};

/// A panel: a titled plot area with axes, ticks, a legend and its series.
struct SvgPanel {
  std::string title, x_label, y_label;
  std::vector<SvgSeries> series;
};

/// One horizontal bar of a stacked bar chart: labelled segments laid end to end.
struct SvgBar {
  std::string label;
  std::vector<std::pair<std::string, double>> segments;  // (segment label, value); one colour per label
};

namespace detail {

/// Round tick spacing (1, 2 or 5 times a power of ten) giving about `target` ticks over [lo, hi].
inline double nice_step(double lo, double hi, int target) {
  const double raw = (hi - lo) / std::max(target, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double r = raw / mag;
  return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * mag;
}

inline std::string fmt(double v, int significant_digits = 4) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*g", significant_digits, v);
  return buf;
}

/// Colours for series and segments, in the order they are handed out.
inline constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
                                           "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#ad494a",
                                           "#637939", "#e7ba52", "#7b4173", "#3182bd"};

inline std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

/// The opening of a standalone document: its size, the font, a white background.
inline void svg_open(std::ostringstream& os, int width, int height) {
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
     << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
}

/// A title centred on x.
inline void svg_title(std::ostringstream& os, double x, const std::string& title) {
  os << "<text x=\"" << x << "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">" << xml_escape(title) << "</text>\n";
}

}  // namespace detail

/// Renders panels side by side into one SVG document (open it in any browser).
inline std::string render_svg(const std::vector<SvgPanel>& panels, int panel_width = 480, int height = 340) {
  const int left = 62, right = 16, top = 34, bottom = 46;
  std::ostringstream os;
  const int width = panel_width * static_cast<int>(std::max<std::size_t>(panels.size(), 1));
  detail::svg_open(os, width, height);
  for (std::size_t p = 0; p < panels.size(); ++p) {
    const SvgPanel& panel = panels[p];
    const double x0 = static_cast<double>(p) * panel_width + left, x1 = (p + 1.0) * panel_width - right;
    const double y0 = top, y1 = height - bottom;
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (const auto& s : panel.series)
      for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
        if (!std::isfinite(s.y[i])) continue;
        xmin = std::min(xmin, s.x[i]);
        xmax = std::max(xmax, s.x[i]);
        ymin = std::min(ymin, s.y[i]);
        ymax = std::max(ymax, s.y[i]);
      }
    if (!(xmin <= xmax)) xmin = 0, xmax = 1, ymin = 0, ymax = 1;  // nothing to draw
    if (xmax == xmin) xmax = xmin + 1;
    if (ymax == ymin) ymax = ymin + std::max(1e-9, std::fabs(ymin) * 0.1), ymin -= (ymax - ymin);
    const double pad = (ymax - ymin) * 0.05;
    ymin -= pad;
    ymax += pad;
    auto sx = [&](double v) { return x0 + (v - xmin) / (xmax - xmin) * (x1 - x0); };
    auto sy = [&](double v) { return y1 - (v - ymin) / (ymax - ymin) * (y1 - y0); };
    detail::svg_title(os, (x0 + x1) / 2, panel.title);
    os << "<rect x=\"" << x0 << "\" y=\"" << y0 << "\" width=\"" << x1 - x0 << "\" height=\"" << y1 - y0
       << "\" fill=\"none\" stroke=\"#888\"/>\n";
    const double ys = detail::nice_step(ymin, ymax, 5);
    for (double v = std::ceil(ymin / ys) * ys; v <= ymax; v += ys) {
      os << "<line x1=\"" << x0 << "\" x2=\"" << x1 << "\" y1=\"" << sy(v) << "\" y2=\"" << sy(v)
         << "\" stroke=\"#eee\"/><text x=\"" << x0 - 6 << "\" y=\"" << sy(v) + 4 << "\" text-anchor=\"end\">"
         << detail::fmt(v) << "</text>\n";
    }
    const double xs = detail::nice_step(xmin, xmax, 6);
    for (double v = std::ceil(xmin / xs) * xs; v <= xmax; v += xs)
      os << "<text x=\"" << sx(v) << "\" y=\"" << y1 + 16 << "\" text-anchor=\"middle\">" << detail::fmt(v)
         << "</text>\n";
    os << "<text x=\"" << (x0 + x1) / 2 << "\" y=\"" << height - 8 << "\" text-anchor=\"middle\">"
       << detail::xml_escape(panel.x_label) << "</text>\n";
    os << "<text transform=\"translate(" << x0 - 48 << "," << (y0 + y1) / 2
       << ") rotate(-90)\" text-anchor=\"middle\">" << detail::xml_escape(panel.y_label) << "</text>\n";
    for (std::size_t s = 0; s < panel.series.size(); ++s) {
      const SvgSeries& series = panel.series[s];
      const char* color = detail::kPalette[s % 6];  // six, as line charts always had
      os << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2\""
         << (series.dashed ? " stroke-dasharray=\"6,4\"" : "") << " points=\"";
      for (std::size_t i = 0; i < std::min(series.x.size(), series.y.size()); ++i)
        if (std::isfinite(series.y[i])) os << sx(series.x[i]) << ',' << sy(series.y[i]) << ' ';
      os << "\"/>\n";
      for (std::size_t i = 0; i < std::min(series.x.size(), series.y.size()); ++i)
        if (std::isfinite(series.y[i]))
          os << "<circle cx=\"" << sx(series.x[i]) << "\" cy=\"" << sy(series.y[i]) << "\" r=\"2.5\" fill=\"" << color
             << "\"/>\n";
      const double ly = y0 + 14 + 16.0 * static_cast<double>(s);
      os << "<line x1=\"" << x1 - 120 << "\" x2=\"" << x1 - 100 << "\" y1=\"" << ly - 4 << "\" y2=\"" << ly - 4
         << "\" stroke=\"" << color << "\" stroke-width=\"2\"" << (series.dashed ? " stroke-dasharray=\"6,4\"" : "")
         << "/><text x=\"" << x1 - 96 << "\" y=\"" << ly << "\">" << detail::xml_escape(series.label) << "</text>\n";
    }
  }
  os << "</svg>\n";
  return os.str();
}

/// Renders horizontal stacked bars, one per row, with a shared value axis in `unit`, each bar's total
/// at its end and a legend of the segment labels. Colours go to labels by their total over all bars,
/// largest first, so the segments that matter get distinct colours (past 16 labels they repeat).
inline std::string render_bar_svg(const std::string& title, const std::string& unit, const std::vector<SvgBar>& bars,
                                  int width = 760) {
  constexpr std::size_t kColors = std::size(detail::kPalette);
  std::vector<std::pair<std::string, double>> legend;  // label, total over all bars
  std::map<std::string, std::size_t> color_of;
  double vmax = 0;
  std::size_t longest_label = 0;
  for (const SvgBar& b : bars) {
    double total = 0;
    for (const auto& [label, v] : b.segments) {
      const auto [it, added] = color_of.emplace(label, legend.size());
      if (added) legend.emplace_back(label, 0.0);
      legend[it->second].second += std::max(v, 0.0);
      total += std::max(v, 0.0);
    }
    vmax = std::max(vmax, total);
    longest_label = std::max(longest_label, b.label.size());
  }
  std::stable_sort(legend.begin(), legend.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  for (std::size_t k = 0; k < legend.size(); ++k) color_of[legend[k].first] = k;
  if (!(vmax > 0)) vmax = 1;
  // Up to 7.5 px per character of 12 px sans-serif, so the longest bar label fits left of the axis.
  const int label_width = static_cast<int>(std::clamp<std::size_t>(16 + longest_label * 15 / 2, 120, 400));
  const int right = 70, top = 34, row = 22, legend_row = 18;
  const int plot_h = row * static_cast<int>(bars.size());
  const int height = top + plot_h + 40 + legend_row * static_cast<int>((legend.size() + 3) / 4) + 8;
  const double x0 = label_width, x1 = width - right;
  auto sx = [&](double v) { return x0 + v / vmax * (x1 - x0); };
  std::ostringstream os;
  detail::svg_open(os, width, height);
  detail::svg_title(os, width / 2, title);
  const double step = detail::nice_step(0, vmax, 6);
  for (double v = 0; v <= vmax * 1.0001; v += step)
    os << "<line x1=\"" << sx(v) << "\" x2=\"" << sx(v) << "\" y1=\"" << top << "\" y2=\"" << top + plot_h
       << "\" stroke=\"#eee\"/><text x=\"" << sx(v) << "\" y=\"" << top + plot_h + 16 << "\" text-anchor=\"middle\">"
       << detail::fmt(v) << "</text>\n";
  os << "<text x=\"" << (x0 + x1) / 2 << "\" y=\"" << top + plot_h + 32 << "\" text-anchor=\"middle\">"
     << detail::xml_escape(unit) << "</text>\n";
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const SvgBar& b = bars[i];
    const double y = top + row * static_cast<double>(i);
    os << "<text x=\"" << x0 - 6 << "\" y=\"" << y + row / 2 + 4 << "\" text-anchor=\"end\">" << detail::xml_escape(b.label)
       << "</text>\n";
    double at = 0;
    for (const auto& [label, v] : b.segments) {
      if (!(v > 0)) continue;
      os << "<rect x=\"" << sx(at) << "\" y=\"" << y + 3 << "\" width=\"" << sx(at + v) - sx(at) << "\" height=\""
         << row - 6 << "\" fill=\"" << detail::kPalette[color_of[label] % kColors] << "\"><title>" << detail::xml_escape(b.label)
         << " / " << detail::xml_escape(label) << ": " << detail::fmt(v) << ' ' << detail::xml_escape(unit)
         << "</title></rect>\n";
      at += v;
    }
    os << "<text x=\"" << sx(at) + 4 << "\" y=\"" << y + row / 2 + 4 << "\">" << detail::fmt(at, 3) << "</text>\n";
  }
  for (std::size_t k = 0; k < legend.size(); ++k) {
    const double lx = 10 + static_cast<double>(k % 4) * (width - 20) / 4.0;
    const double ly = top + plot_h + 56 + legend_row * static_cast<double>(k / 4);
    os << "<rect x=\"" << lx << "\" y=\"" << ly - 10 << "\" width=\"12\" height=\"12\" fill=\"" << detail::kPalette[k % kColors]
       << "\"/><text x=\"" << lx + 16 << "\" y=\"" << ly << "\">" << detail::xml_escape(legend[k].first) << "</text>\n";
  }
  os << "</svg>\n";
  return os.str();
}

/// A profile as stacked bars: one bar per scope (the most time first, at most max_scopes), split by
/// kernel, in milliseconds per step (per_step: the number of steps the session covered).
inline std::string render_profile_svg(const profiler::Report& report, const std::string& title, int per_step = 1,
                                      std::size_t max_scopes = 16) {
  RECSYS_CHECK(per_step >= 1, "render_profile_svg: per_step must be >= 1, got ", per_step);
  std::vector<SvgBar> bars;
  for (const profiler::KernelStat& scope : report.by_scope()) {
    if (bars.size() == max_scopes) break;
    SvgBar bar{scope.scope + (scope.device.is_cpu() ? "" : " (" + to_string(scope.device) + ")"), {}};
    for (const profiler::KernelStat& k : report.kernels)
      if (k.scope == scope.scope && k.device == scope.device) bar.segments.emplace_back(k.kernel, k.total_ms / per_step);
    bars.push_back(std::move(bar));
  }
  return render_bar_svg(title, per_step > 1 ? "ms per step" : "ms", bars);
}

}  // namespace recsys
