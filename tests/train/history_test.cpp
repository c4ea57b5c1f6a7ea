// tests/train/history_test.cpp — History as CSV and SVG, the SVG chart writers (lines, stacked bars, a profile) and the progress bar's formatting.
#include <doctest/doctest.h>

#include <recsys/train/history.hpp>
#include <recsys/train/progress.hpp>

#include <cstdio>
#include <string>

#include "test_util.hpp"

using namespace recsys;

TEST_CASE("History keeps keys in first-seen order and writes CSV") {
  History h;
  h.record("loss", 0.7);
  h.record("accuracy", 0.5);
  h.record("val_loss", 0.69);
  h.record("loss", 0.5);
  h.record("accuracy", 0.75);
  h.record("val_loss", 0.6);
  CHECK(h.epochs() == 2);
  CHECK(h.keys() == std::vector<std::string>{"loss", "accuracy", "val_loss"});
  CHECK(h["loss"] == std::vector<double>{0.7, 0.5});
  CHECK(h.to_csv() == "epoch,loss,accuracy,val_loss\n1,0.7,0.5,0.69\n2,0.5,0.75,0.6\n");
  CHECK_THROWS_WITH_AS(h["auc"], "History: no values recorded for 'auc'", Error);
}

TEST_CASE("History draws one panel per metric with validation dashed") {
  History h;
  for (int e = 0; e < 5; ++e) {
    h.record("loss", 1.0 / (e + 1));
    h.record("val_loss", 1.2 / (e + 1));
    h.record("accuracy", 0.5 + 0.1 * e);
  }
  const std::string svg = h.to_svg("demo <model>");
  CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"960\"", 0) == 0);
  CHECK(svg.find("demo &lt;model&gt;: loss") != std::string::npos);  // escaped title, loss panel
  CHECK(svg.find("demo &lt;model&gt;: accuracy") != std::string::npos);
  CHECK(svg.find("stroke-dasharray") != std::string::npos);  // validation curve
  CHECK(recsys::testing::count_occurrences(svg, "<polyline") == 3);
  CHECK(svg.find("</svg>") != std::string::npos);
}

TEST_CASE("SVG chart survives degenerate series") {
  const std::string flat = render_svg({SvgPanel{"flat", "x", "y", {SvgSeries{"c", {1, 2, 3}, {5, 5, 5}}}}});
  CHECK(flat.find("nan") == std::string::npos);
  const std::string empty = render_svg({SvgPanel{"empty", "x", "y", {}}});
  CHECK(empty.find("</svg>") != std::string::npos);
  const std::string with_nan = render_svg({SvgPanel{"missing value", "x", "y", {SvgSeries{"c", {1, 2}, {NAN, 1.0}}}}});
  CHECK(with_nan.find("nan") == std::string::npos);
}

TEST_CASE("stacked bars: segments end to end, widths to scale, one legend entry per label") {
  const std::string svg = render_bar_svg("time <per> step", "ms", {SvgBar{"forward", {{"gemm", 1}, {"cell", 3}}},
                                                                   SvgBar{"backward", {{"gemm", 2}, {"idle", 0}}}});
  // Plot area 120..690 px (short labels: the narrowest label column) for 0..4 (the longest bar):
  // 1 -> 142.5 px, 3 -> 427.5, 2 -> 285; zero draws nothing.
  CHECK(svg.find("<rect x=\"120\" y=\"37\" width=\"142.5\"") != std::string::npos);
  CHECK(svg.find("<rect x=\"262.5\" y=\"37\" width=\"427.5\"") != std::string::npos);
  CHECK(svg.find("<rect x=\"120\" y=\"59\" width=\"285\"") != std::string::npos);
  CHECK(recsys::testing::count_occurrences(svg, "<title>") == 3);
  CHECK(svg.find("<title>forward / cell: 3 ms</title>") != std::string::npos);
  CHECK(svg.find("<text x=\"694\" y=\"49\">4</text>") != std::string::npos);  // the first bar's total at its end
  CHECK(svg.find("time &lt;per&gt; step") != std::string::npos);
  // Legend: gemm, cell, idle — each once, gemm the same colour in both bars.
  CHECK(recsys::testing::count_occurrences(svg, ">gemm</text>") == 1);
  CHECK(recsys::testing::count_occurrences(svg, ">idle</text>") == 1);
  CHECK(recsys::testing::count_occurrences(svg, "fill=\"#1f77b4\"><title>") == 2);
  const std::string empty = render_bar_svg("nothing", "ms", {});
  CHECK(empty.find("nan") == std::string::npos);
  CHECK(empty.find("</svg>") != std::string::npos);
}

TEST_CASE("a profile as stacked bars: a bar per scope, the most time first, kernels as segments") {
  profiler::Report r;
  r.wall_ms = 10;
  r.kernels = {{"backward lstm", "gemm", Device::cpu(), 4, 6.0, 2.0},
               {"forward LSTM", "gemm", Device::cpu(), 2, 2.0, 1.0},
               {"backward lstm", "lstm_cell_backward", Device::cpu(), 2, 1.0, 0.5},
               {"step Adam", "adam_update", Device::cuda(), 2, 0.5, 0.3}};
  const std::string svg = render_profile_svg(r, "a step", 2);
  CHECK(svg.find("<title>backward lstm / gemm: 3 ms per step</title>") != std::string::npos);
  CHECK(svg.find("<title>backward lstm / lstm_cell_backward: 0.5 ms per step</title>") != std::string::npos);
  CHECK(svg.find("step Adam (cuda:0)") != std::string::npos);
  CHECK(svg.find("backward lstm") < svg.find("forward LSTM"));  // bars by total time: 7 before 2
  CHECK(svg.find("<text x=\"694\" y=\"49\">3.5</text>") != std::string::npos);  // backward lstm's total per step
  CHECK(render_profile_svg(r, "one bar", 1, 1).find("forward LSTM") == std::string::npos);
  CHECK_THROWS_WITH_AS(render_profile_svg(r, "x", 0), "render_profile_svg: per_step must be >= 1, got 0", Error);
}

TEST_CASE("progress bar formatting matches Keras") {
  CHECK(ProgressBar::format_duration(5.4) == "5s");
  CHECK(ProgressBar::format_duration(125) == "2:05");
  CHECK(ProgressBar::format_duration(3725) == "1:02:05");
  CHECK(ProgressBar::format_values({{"loss", 0.69314}, {"accuracy", 0.5}}) == " - loss: 0.6931 - accuracy: 0.5000");
  // Written to a file (not a terminal): only the finished line appears.
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  ProgressBar bar(10, 1, f);
  for (int s = 1; s <= 10; ++s) bar.update(s, {{"loss", 1.0 / s}});
  bar.finish({{"loss", 0.1}});
  std::rewind(f);
  char buf[256] = {};
  REQUIRE(std::fgets(buf, sizeof buf, f) != nullptr);
  const std::string line(buf);
  CHECK(line.rfind("10/10 [==============================] - ", 0) == 0);
  CHECK(line.find("ms/step - loss: 0.1000\n") != std::string::npos);
  CHECK(std::fgets(buf, sizeof buf, f) == nullptr);  // exactly one line
  std::fclose(f);
}
