// tests/train/history_test.cpp — History as CSV and SVG, the SVG chart writer and the progress bar's formatting.
#include <doctest/doctest.h>

#include <recsys/train/history.hpp>
#include <recsys/train/progress.hpp>

#include <cstdio>
#include <string>

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
  std::size_t lines = 0;
  for (std::size_t p = svg.find("<polyline"); p != std::string::npos; p = svg.find("<polyline", p + 1)) ++lines;
  CHECK(lines == 3);
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
