// tests/tools/serve_test.cpp — the server's handlers without sockets (tools/serve/service.hpp): every endpoint, every error path naming its field, cold start, reload and its failure, metrics, and requests racing reloads.
#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <recsys/recsys.hpp>

#include "serve/service.hpp"

using namespace recsys;
using serve::Request;
using serve::Response;
using serve::Service;

namespace {

struct Scratch {
  std::filesystem::path dir;
  explicit Scratch(const std::string& name)
      : dir(std::filesystem::temp_directory_path() / ("recsys_serve_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

/// 6 users × 8 items: item m0 the most rated, then m1, ...; u0 rated m0 and m1.
rec::Dataset tiny_data() {
  std::vector<rec::Item> items(8);
  for (int i = 0; i < 8; ++i) {
    items[static_cast<std::size_t>(i)].id = "m" + std::to_string(i);
    items[static_cast<std::size_t>(i)].title = "Movie " + std::to_string(i);
  }
  std::vector<std::string> users;
  for (int u = 0; u < 6; ++u) users.push_back("u" + std::to_string(u));
  std::vector<rec::Interaction> rows;
  std::int64_t t = 0;
  for (std::int64_t u = 0; u < 6; ++u)
    for (std::int64_t i = 0; i <= 5 - u && i < 8; ++i) rows.push_back({u, i, static_cast<float>(3 + (u + i) % 3), ++t, ""});
  return rec::Dataset(users, items, rows);
}

std::unique_ptr<rec::Recommender> trained(const std::string& kind) {
  rec::FitOptions o = rec::default_options(kind);
  o.epochs = 2;
  o.factors = 4;
  o.batch_size = 8;
  auto m = rec::make_recommender(kind, o);
  m->fit(tiny_data());
  return m;
}

/// A run folder as `recsys train` leaves it, enough for ServedModel::load.
void write_run(const std::filesystem::path& dir, const std::string& kind, const std::string& created) {
  trained(kind)->save(dir.string());
  json::Value config = json::Value::object();
  config["format"] = "recsys-run";
  config["model"] = kind;
  config["created"] = created;
  config["data_fingerprint"] = "fp-" + kind;
  io::write_file_atomic((dir / "config.json").string(), json::dump(config));
  io::write_file_atomic((dir / "metrics.json").string(), "{\"ranking\": {\"ndcg@10\": 0.5}}");
  io::write_file_atomic((dir / "held_out.csv").string(), "user_id,item_id,held_out\nu0,m2,1\n");
  json::Value identity = json::Value::object();
  identity["model"] = kind;
  cli::seal_run_folder(dir, identity);  // readers verify manifest.json
}

Response post(Service& s, const std::string& path, const std::string& body, const std::string& auth = "") {
  return s.handle({"POST", path, body, auth});
}
Response get(Service& s, const std::string& path) { return s.handle({"GET", path, "", ""}); }
json::Value body_of(const Response& r) { return json::parse(r.body); }

/// The answer is a 4xx/5xx JSON error naming `field`.
void check_error(const Response& r, int status, const std::string& field, const std::string& words = "") {
  INFO(r.body);
  CHECK(r.status == status);
  const json::Value v = body_of(r);
  REQUIRE(v.contains("error"));
  CHECK(v.at("error").at("code").as_int64() == status);
  if (!field.empty()) CHECK(v.at("error").at("field").as_string() == field);
  if (!words.empty()) CHECK(v.at("error").at("message").as_string().find(words) != std::string::npos);
}

std::vector<std::string> ids(const json::Value& items) {
  std::vector<std::string> out;
  for (const json::Value& i : items.as_array()) out.push_back(i.at("item").as_string());
  return out;
}

}  // namespace

TEST_CASE("serve: recommend a known user's unseen items, best first, with titles and scores") {
  Scratch s("recommend");
  write_run(s.dir, "popularity", "2026-01-01T00:00:00Z");
  Service service(s.dir.string(), {});
  const Response r = post(service, "/v1/recommend", R"({"user": "u0", "n": 3})");
  REQUIRE(r.status == 200);
  const json::Value v = body_of(r);
  CHECK(v.at("user").as_string() == "u0");
  CHECK_FALSE(v.at("cold_start").as_bool());
  CHECK(v.at("model").as_string() == "popularity");
  CHECK(v.at("model_version").as_int64() == 1);
  // u0 rated m0..m5, so only m6 and m7 are left (the held-out m2 is among the rated ones anyway).
  CHECK(ids(v.at("items")) == std::vector<std::string>{"m6", "m7"});
  CHECK(v.at("items").at(0).at("title").as_string() == "Movie 6");
  // u5 rated only m0: the most popular of the rest, in order, m2 allowed (held out for u0 only).
  const json::Value w = body_of(post(service, "/v1/recommend", R"({"user": "u5", "n": 3})"));
  CHECK(ids(w.at("items")) == std::vector<std::string>{"m1", "m2", "m3"});
  CHECK(w.at("items").at(0).at("score").as_double() >= w.at("items").at(1).at("score").as_double());
  // exclude_seen false brings m0 back; exclude drops items by id (unknown ids are ignored).
  const json::Value x =
      body_of(post(service, "/v1/recommend", R"({"user": "u5", "n": 2, "exclude_seen": false, "exclude": ["m1", "zz"]})"));
  CHECK(ids(x.at("items")) == std::vector<std::string>{"m0", "m2"});
  // Integer ids name the same user as strings would (none here: u-prefixed ids make 5 a stranger).
  CHECK(body_of(post(service, "/v1/recommend", R"({"user": 5})")).at("cold_start").as_bool());
}

TEST_CASE("serve: an unknown user gets the popularity list marked cold_start, and candidates restrict the list") {
  Service service(std::make_shared<const serve::ServedModel>(trained("mf"), serve::ModelInfo{}), {});
  const json::Value v = body_of(post(service, "/v1/recommend", R"({"user": "newcomer", "n": 3, "exclude": ["m1"]})"));
  CHECK(v.at("cold_start").as_bool());
  CHECK(ids(v.at("items")) == std::vector<std::string>{"m0", "m2", "m3"});
  CHECK(v.at("items").at(0).at("score").as_double() == 6.0);  // six users rated m0

  const json::Value c = body_of(post(service, "/v1/recommend", R"({"user": "u5", "n": 10, "candidates": ["m7", "m3", "m0", "m3", "nope"]})"));
  std::vector<std::string> got = ids(c.at("items"));
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector<std::string>{"m3", "m7"});  // m0 is seen; duplicates once; nope unknown
  CHECK(c.at("unknown_items").at(0).as_string() == "nope");
  const json::Value cc = body_of(post(service, "/v1/recommend", R"({"user": "stranger", "candidates": ["m7", "m1"]})"));
  CHECK(ids(cc.at("items")) == std::vector<std::string>{"m1", "m7"});
}

TEST_CASE("serve: batch recommend answers each user in order, strangers cold-started, and stops at the time limit") {
  Service::Options o;
  Service service(std::make_shared<const serve::ServedModel>(trained("mf"), serve::ModelInfo{}), o);
  const json::Value v = body_of(post(service, "/v1/recommend", R"({"users": ["u1", "ghost", 3], "n": 2})"));
  const json::Array& r = v.at("results").as_array();
  REQUIRE(r.size() == 3);
  CHECK(r[0].at("user").as_string() == "u1");
  CHECK_FALSE(r[0].at("cold_start").as_bool());
  CHECK(r[1].at("cold_start").as_bool());
  CHECK(r[2].at("user").as_string() == "3");
  CHECK(r[0].at("items").size() == 2);

  o.limits.request_seconds = 1e-9;
  Service slow(std::make_shared<const serve::ServedModel>(trained("popularity"), serve::ModelInfo{}), o);
  check_error(post(slow, "/v1/recommend", R"({"users": ["u1", "u2"]})"), 503, "users", "limit");
}

TEST_CASE("serve: score gives one number per item, null for unknown items, popularity for a stranger") {
  auto mf = trained("mf");
  const std::vector<double> expect = mf->score(mf->data().user_index("u2"), std::vector<std::int64_t>{3, 0});
  Service service(std::make_shared<const serve::ServedModel>(std::move(mf), serve::ModelInfo{}), {});
  const json::Value v = body_of(post(service, "/v1/score", R"({"user": "u2", "items": ["m3", "x", "m0"]})"));
  const json::Array& s = v.at("scores").as_array();
  REQUIRE(s.size() == 3);
  CHECK(s[0].at("item").as_string() == "m3");
  CHECK(s[0].at("score").as_double() == doctest::Approx(expect[0]));
  CHECK(s[1].at("score").is_null());
  CHECK(s[2].at("score").as_double() == doctest::Approx(expect[1]));
  CHECK(v.at("unknown_items").at(0).as_string() == "x");
  const json::Value c = body_of(post(service, "/v1/score", R"({"user": "nobody", "items": ["m0", "m7"]})"));
  CHECK(c.at("cold_start").as_bool());
  CHECK(c.at("scores").at(0).at("score").as_double() == 6.0);
}

TEST_CASE("serve: similar items from mf and itemknn, 501 for a model without item vectors, 404 for an unknown item") {
  for (const char* kind : {"mf", "itemknn"}) {
    CAPTURE(kind);
    Service service(std::make_shared<const serve::ServedModel>(trained(kind), serve::ModelInfo{}), {});
    const Response r = post(service, "/v1/similar", R"({"item": "m1", "n": 3})");
    REQUIRE(r.status == 200);
    const json::Value v = body_of(r);
    CHECK(v.at("title").as_string() == "Movie 1");
    CHECK(v.at("items").size() >= 1);
    for (const std::string& id : ids(v.at("items"))) CHECK(id != "m1");
    CHECK(body_of(get(service, "/v1/model")).at("capabilities").at("similar").as_bool());
    check_error(post(service, "/v1/similar", R"({"item": "m99"})"), 404, "item", "unknown item id 'm99'");
  }
  Service pop(std::make_shared<const serve::ServedModel>(trained("popularity"), serve::ModelInfo{}), {});
  check_error(post(pop, "/v1/similar", R"({"item": "m1"})"), 501, "item", "no item vectors");
  CHECK_FALSE(body_of(get(pop, "/v1/model")).at("capabilities").at("similar").as_bool());
}

TEST_CASE("serve: health, readiness, model facts and Prometheus metrics") {
  Scratch s("model");
  write_run(s.dir, "mf", "2026-02-03T04:05:06Z");
  Service service(s.dir.string(), {});
  CHECK(body_of(get(service, "/healthz")).at("status").as_string() == "ok");
  CHECK(get(service, "/readyz").status == 200);
  const json::Value m = body_of(get(service, "/v1/model"));
  CHECK(m.at("run_id").as_string() == s.dir.filename().string());
  CHECK(m.at("model").as_string() == "mf");
  CHECK(m.at("data_fingerprint").as_string() == "fp-mf");
  CHECK(m.at("trained_at").as_string() == "2026-02-03T04:05:06Z");
  CHECK(m.at("metrics").at("ranking").at("ndcg@10").as_double() == 0.5);
  CHECK(m.at("data_size").at("items").as_int64() == 8);
  post(service, "/v1/recommend", R"({"user": "u1"})");
  post(service, "/v1/recommend", R"({"user": 1.5})");
  const Response p = get(service, "/metrics");
  CHECK(p.content_type.find("text/plain") == 0);
  CHECK(p.body.find("recsys_requests_total{endpoint=\"/v1/recommend\",code=\"200\"} 1\n") != std::string::npos);
  CHECK(p.body.find("recsys_request_errors_total{endpoint=\"/v1/recommend\",code=\"400\"} 1\n") != std::string::npos);
  CHECK(p.body.find("recsys_request_duration_seconds_bucket{endpoint=\"/v1/recommend\",le=\"+Inf\"} 2\n") !=
        std::string::npos);
  CHECK(p.body.find("recsys_model_version 1\n") != std::string::npos);
  CHECK(p.body.find("recsys_model_info{run_id=\"" + s.dir.filename().string() + "\",model=\"mf\"") != std::string::npos);
  service.set_draining();
  CHECK(get(service, "/readyz").status == 503);
  CHECK(get(service, "/healthz").status == 200);
}

TEST_CASE("serve: every malformed request is a 4xx naming its field") {
  Service::Options o;
  o.limits.max_body_bytes = 200;
  o.limits.max_batch = 3;
  o.limits.max_n = 50;
  o.limits.max_items = 4;
  Service s(std::make_shared<const serve::ServedModel>(trained("mf"), serve::ModelInfo{}), o);
  check_error(post(s, "/v1/recommend", "{\"user\": "), 400, "body", "not JSON");
  check_error(post(s, "/v1/recommend", ""), 400, "body", "not JSON");
  check_error(post(s, "/v1/recommend", "[1, 2]"), 400, "body", "JSON object");
  check_error(post(s, "/v1/recommend", std::string(300, ' ') + "{}"), 413, "body", "at most 200");
  check_error(post(s, "/v1/recommend", std::string(40, '[') + std::string(40, ']')), 400, "body", "not JSON");
  check_error(post(s, "/v1/recommend", R"({"usr": "u1"})"), 400, "usr", "unknown field 'usr'");
  check_error(post(s, "/v1/recommend", R"({"n": 3})"), 400, "user", "missing field 'user'");
  check_error(post(s, "/v1/recommend", R"({"user": "u1", "users": ["u2"]})"), 400, "users", "not both");
  check_error(post(s, "/v1/recommend", R"({"user": ["u1"]})"), 400, "user", "an id");
  check_error(post(s, "/v1/recommend", R"({"user": ""})"), 400, "user", "empty");
  check_error(post(s, "/v1/recommend", R"({"user": null})"), 400, "user");
  check_error(post(s, "/v1/recommend", R"({"user": "u1", "n": 0})"), 400, "n", "between 1 and 50");
  check_error(post(s, "/v1/recommend", R"({"user": "u1", "n": 51})"), 400, "n", "between 1 and 50");
  check_error(post(s, "/v1/recommend", R"({"user": "u1", "n": 2.5})"), 400, "n", "an integer");
  check_error(post(s, "/v1/recommend", R"({"user": "u1", "n": "10"})"), 400, "n", "an integer");
  check_error(post(s, "/v1/recommend", R"({"user": "u1", "n": 1e300})"), 400, "n");
  check_error(post(s, "/v1/recommend", R"({"user": "u1", "n": 99999999999999999999})"), 400, "n");
  check_error(post(s, "/v1/recommend", R"({"user": "u1", "exclude_seen": 1})"), 400, "exclude_seen", "true or false");
  // Error messages quote the offending value cut to a few dozen bytes, never inside a UTF-8 character.
  check_error(post(s, "/v1/recommend", R"({"user": "u1", "n": "ééééééééééééééééééééééééééééééé"})"), 400, "n");
  check_error(post(s, "/v1/recommend", R"({"ééééééééééééééééééééééééééééééééééééééééé": 1})"), 400, "", "unknown field");
  check_error(post(s, "/v1/recommend", R"({"user": "u1", "exclude": "m1"})"), 400, "exclude", "an array");
  check_error(post(s, "/v1/recommend", R"({"user": "u1", "exclude": ["m1", {}]})"), 400, "exclude[1]");
  check_error(post(s, "/v1/recommend", R"({"user": "u1", "candidates": ["a","b","c","d","e"]})"), 400, "candidates",
              "at most 4");
  check_error(post(s, "/v1/recommend", R"({"users": []})"), 400, "users", "empty");
  check_error(post(s, "/v1/recommend", R"({"users": ["a","b","c","d"]})"), 400, "users", "at most 3");
  check_error(post(s, "/v1/recommend", R"({"users": "u1"})"), 400, "users");
  check_error(post(s, "/v1/score", R"({"items": ["m1"]})"), 400, "user", "missing field 'user'");
  check_error(post(s, "/v1/score", R"({"user": "u1"})"), 400, "items", "missing field 'items'");
  check_error(post(s, "/v1/score", R"({"user": "u1", "items": []})"), 400, "items", "empty");
  check_error(post(s, "/v1/score", R"({"user": "u1", "items": [true]})"), 400, "items[0]");
  check_error(post(s, "/v1/score", R"({"user": "u1", "items": ["m1"], "n": 3})"), 400, "n", "unknown field");
  check_error(post(s, "/v1/similar", R"({"n": 3})"), 400, "item", "missing field 'item'");
  check_error(post(s, "/v1/similar", R"({"item": "m1", "n": -1})"), 400, "n");
  check_error(post(s, "/v1/similar", R"({"item": 1.25})"), 400, "item");
  check_error(s.handle({"GET", "/v1/recommend", "", ""}), 405, "method", "takes POST");
  check_error(s.handle({"POST", "/healthz", "", ""}), 405, "method", "takes GET");
  check_error(s.handle({"DELETE", "/v1/model", "", ""}), 405, "method");
  check_error(get(s, "/v2/recommend"), 404, "path", "no endpoint '/v2/recommend'");
  check_error(get(s, std::string("/\x01\xff", 3)), 404, "path");
  CHECK(s.handle({"HEAD", "/healthz", "", ""}).status == 200);
  // Nothing above counted as a server error.
  CHECK(s.metrics().text(0).find("code=\"500\"") == std::string::npos);
}

TEST_CASE("serve: admin reload needs the token, swaps the model, and a failed reload keeps the old one serving") {
  Scratch s("reload");
  const std::filesystem::path run = s.dir / "run";
  write_run(run, "mf", "2026-01-01T00:00:00Z");
  {
    Service off(run.string(), {});
    check_error(post(off, "/admin/reload", ""), 404, "path", "admin endpoints are off");
  }
  Service::Options o;
  o.admin_token = "s3cret";
  Service service(run.string(), o);
  check_error(post(service, "/admin/reload", ""), 401, "Authorization");
  check_error(post(service, "/admin/reload", "", "Bearer wrong!"), 401, "Authorization");
  check_error(post(service, "/admin/reload", "", "Bearer s3cre"), 401, "Authorization");
  check_error(post(service, "/admin/reload", "", "s3cret"), 401, "Authorization");

  // The folder now holds a popularity run: the reload swaps it in as version 2.
  std::filesystem::remove_all(run);
  write_run(run, "popularity", "2026-01-02T00:00:00Z");
  const std::shared_ptr<const serve::ServedModel> before = service.current();
  const Response r = post(service, "/admin/reload", "", "Bearer s3cret");
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(body_of(r).at("model_version").as_int64() == 2);
  CHECK(body_of(get(service, "/v1/model")).at("model").as_string() == "popularity");
  CHECK(before->info().kind == "mf");  // a request holding the old model still has it
  CHECK(before->score_all(0).size() == 8);

  // Damaged weights: the reload fails, version 2 keeps serving, the error shows in the answer, /v1/model and /metrics.
  io::write_file_atomic((run / "model.safetensors").string(), "not a weight file");
  const Response bad = service.reload();
  check_error(bad, 500, "run", "still serving version 2");
  CHECK(body_of(bad).at("model_version").as_int64() == 2);
  CHECK(body_of(post(service, "/v1/recommend", R"({"user": "u3"})")).at("model_version").as_int64() == 2);
  CHECK(body_of(get(service, "/v1/model")).at("last_reload_error").as_string().find("model.safetensors") !=
        std::string::npos);
  const std::string text = get(service, "/metrics").body;
  CHECK(text.find("recsys_model_reloads_total 1\n") != std::string::npos);
  CHECK(text.find("recsys_model_reload_failures_total 1\n") != std::string::npos);
  CHECK(text.find("recsys_model_last_reload_ok 0\n") != std::string::npos);
  CHECK(text.find("recsys_model_last_reload_error{message=") != std::string::npos);
  CHECK(text.find("recsys_model_version 2\n") != std::string::npos);
}

TEST_CASE("serve: requests racing reloads all succeed, each on the model it started with") {
  Scratch s("race");
  write_run(s.dir, "mf", "2026-01-01T00:00:00Z");
  Service service(s.dir.string(), {});
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, done{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 3; ++c)
    clients.emplace_back([&, c] {
      while (!stop) {
        const Response r = post(service, c == 2 ? "/v1/score" : "/v1/recommend",
                                c == 2 ? R"({"user": "u1", "items": ["m1", "m2"]})" : R"({"users": ["u1", "u2", "x"], "n": 3})");
        if (r.status != 200) ++failures;
        ++done;
      }
    });
  for (int k = 0; k < 5; ++k) CHECK(service.reload().status == 200);
  while (done < 50) std::this_thread::yield();
  stop = true;
  for (std::thread& t : clients) t.join();
  CHECK(failures == 0);
  CHECK(service.current()->info().version == 6);
}
