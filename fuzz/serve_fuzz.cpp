// fuzz/serve_fuzz.cpp — libFuzzer harness for the server's request handler (tools/serve/service.hpp, no sockets): any
// body on any route gets an answer with a status below 500 whose body is JSON, an error naming its status.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <recsys/recsys.hpp>

#include "serve/service.hpp"

namespace {

/// A small trained mf model (item vectors, so /v1/similar answers too) behind a Service with tight limits.
recsys::serve::Service& service() {
  using namespace recsys;
  static std::unique_ptr<serve::Service> s = [] {
    std::vector<rec::Item> items(12);
    for (std::size_t i = 0; i < items.size(); ++i) items[i].id = std::to_string(i), items[i].title = "t" + std::to_string(i);
    std::vector<std::string> users;
    std::vector<rec::Interaction> rows;
    for (std::int64_t u = 0; u < 8; ++u) {
      users.push_back("u" + std::to_string(u));
      for (std::int64_t i = 0; i < 12; i += 1 + u % 3) rows.push_back({u, i, static_cast<float>(1 + (u + i) % 5), u * 100 + i, ""});
    }
    rec::FitOptions o = rec::default_options("mf");
    o.epochs = 1;
    o.factors = 4;
    auto model = rec::make_recommender("mf", o);
    model->fit(rec::Dataset(users, items, rows));
    serve::Service::Options so;
    so.limits.max_body_bytes = 4096;
    so.limits.max_batch = 16;
    so.limits.max_n = 64;
    so.limits.max_items = 64;
    return std::make_unique<serve::Service>(std::make_shared<const serve::ServedModel>(std::move(model), serve::ModelInfo{}), so);
  }();
  return *s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace recsys;
  static const char* const paths[] = {"/v1/recommend", "/v1/score", "/v1/similar", "/v1/model",
                                      "/healthz",      "/readyz",   "/metrics",    "/admin/reload"};
  if (size == 0) return 0;
  const std::string path = paths[data[0] % 8];
  const std::string method = (data[0] & 0x80) ? "GET" : "POST";
  const serve::Response r = service().handle({method, path, std::string(reinterpret_cast<const char*>(data + 1), size - 1), ""});
  if (r.status < 200 || r.status >= 500) std::abort();  // a server error on a client's input is a bug
  if (path == "/metrics" && r.status == 200) return 0;
  const json::Value v = json::parse(r.body);  // throws (and so fails the run) on anything but JSON
  if (r.status >= 400 && v.at("error").at("code").as_int64() != r.status) std::abort();
  return 0;
}
