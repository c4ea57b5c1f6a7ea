// recsys/train/svg_chart.hpp — line charts as standalone SVG: training curves, benchmark series.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

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

namespace detail {

/// Round tick spacing (1, 2 or 5 times a power of ten) giving about `target` ticks over [lo, hi].
inline double nice_step(double lo, double hi, int target) {
  const double raw = (hi - lo) / std::max(target, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double r = raw / mag;
  return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * mag;
}

inline std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

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

}  // namespace detail

/// Renders panels side by side into one SVG document (open it in any browser).
inline std::string render_svg(const std::vector<SvgPanel>& panels, int panel_width = 480, int height = 340) {
  static const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};
  const int left = 62, right = 16, top = 34, bottom = 46;
  std::ostringstream os;
  const int width = panel_width * static_cast<int>(std::max<std::size_t>(panels.size(), 1));
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
     << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
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
    os << "<text x=\"" << (x0 + x1) / 2 << "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">"
       << detail::xml_escape(panel.title) << "</text>\n";
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
      const char* color = colors[s % 6];
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

}  // namespace recsys
