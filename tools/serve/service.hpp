// tools/serve/service.hpp — the server's request handlers without sockets: (method, path, JSON body) → (status, JSON answer), the model behind a swappable shared pointer, reload, limits and metrics.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "recsys/core/error.hpp"
#include "recsys/io/json.hpp"

#include "metrics.hpp"
#include "served_model.hpp"

namespace recsys::serve {

/// What one request may ask for; beyond these the answer is a 4xx naming the field.
struct Limits {
  std::size_t max_body_bytes = 1 << 20;  ///< request body (413 above)
  std::size_t max_batch = 1000;          ///< users in one batch recommend
  std::int64_t max_n = 1000;             ///< list length
  std::size_t max_items = 10000;         ///< items in score's "items", recommend's "candidates" and "exclude"
  double request_seconds = 10;           ///< a batch that has not finished by then stops with 503
};

struct Request {
  std::string method;         ///< "GET", "POST", ...
  std::string path;           ///< without the query string
  std::string body;
  std::string authorization;  ///< the Authorization header, or empty
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

/// A request the server refuses: its status (4xx, or 5xx for the server's own trouble), the field
/// it is about ("body", "user", "items[3]", ...) and why.
class RequestError : public std::exception {
 public:
  RequestError(int status, std::string field, std::string message)
      : status_(status), field_(std::move(field)), message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }
  int status() const { return status_; }
  const std::string& field() const { return field_; }

 private:
  int status_;
  std::string field_, message_;
};

namespace detail {

/// At most `max` bytes of UTF-8 text, cut before a whole character (a cut sequence would make the
/// error message itself unwritable as JSON), "..." marking the cut.
inline std::string clip_utf8(const std::string& s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t end = max - 3;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end) + "...";
}

inline std::string describe(const json::Value& v) {
  return std::string(json::type_name(v.type())) + " (" + clip_utf8(json::dump(v), 40) + ")";
}

/// The request body's members, refusing any the endpoint does not know (a misspelt "exclude_seen"
/// must not silently mean the default).
inline const json::Value& object_body(const json::Value& body, std::initializer_list<std::string_view> allowed) {
  if (!body.is_object()) throw RequestError(400, "body", "the body must be a JSON object, got " + describe(body));
  for (const auto& [key, value] : body.as_object()) {
    bool known = false;
    std::string list;
    for (std::string_view a : allowed) {
      known = known || key == a;
      (list += list.empty() ? "" : ", ") += a;
    }
    if (!known) {
      const std::string k = clip_utf8(key, 60);
      throw RequestError(400, k, "unknown field '" + k + "' (this endpoint takes " + list + ")");
    }
  }
  return body;
}

/// An id given as a JSON string or integer ("42" and 42 name the same user).
inline std::string id_of(const json::Value& v, const std::string& field) {
  if (v.is_string()) {
    if (v.as_string().empty()) throw RequestError(400, field, field + " must not be empty");
    return v.as_string();
  }
  if (v.is_integer()) return json::dump(v);
  throw RequestError(400, field, field + " must be an id (a string or an integer), got " + describe(v));
}

inline std::int64_t integer_field(const json::Value& body, const std::string& field, std::int64_t lo, std::int64_t hi,
                                  std::int64_t fallback) {
  const json::Value* v = body.find(field);
  if (!v) return fallback;
  const std::string range = " between " + std::to_string(lo) + " and " + std::to_string(hi);
  if (!v->is_integer()) throw RequestError(400, field, field + " must be an integer" + range + ", got " + describe(*v));
  const double d = v->as_double();
  if (d < static_cast<double>(lo) || d > static_cast<double>(hi))
    throw RequestError(400, field, field + " must be" + range + ", got " + json::dump(*v));
  return v->as_int64();
}

inline bool bool_field(const json::Value& body, const std::string& field, bool fallback) {
  const json::Value* v = body.find(field);
  if (!v) return fallback;
  if (!v->is_bool()) throw RequestError(400, field, field + " must be true or false, got " + describe(*v));
  return v->as_bool();
}

/// An array member of at most `max` ids (absent: nullopt; required: a 400 when absent).
inline std::optional<std::vector<std::string>> ids_field(const json::Value& body, const std::string& field,
                                                         std::size_t max, bool required, bool allow_empty = true) {
  const json::Value* v = body.find(field);
  if (!v) {
    if (required) throw RequestError(400, field, "missing field '" + field + "'");
    return std::nullopt;
  }
  if (!v->is_array()) throw RequestError(400, field, field + " must be an array of ids, got " + describe(*v));
  const json::Array& a = v->as_array();
  if (a.size() > max)
    throw RequestError(400, field, field + " holds " + std::to_string(a.size()) + " ids; at most " + std::to_string(max) +
                                       " are allowed");
  if (a.empty() && !allow_empty) throw RequestError(400, field, field + " must not be empty");
  std::vector<std::string> out;
  out.reserve(a.size());
  for (std::size_t k = 0; k < a.size(); ++k) out.push_back(id_of(a[k], field + "[" + std::to_string(k) + "]"));
  return out;
}

inline json::Value score_value(double s) { return std::isfinite(s) ? json::Value(s) : json::Value(); }

inline json::Value error_body(int status, const std::string& field, const std::string& message) {
  json::Value e = json::Value::object();
  e["code"] = status;
  if (!field.empty()) e["field"] = field;
  e["message"] = message;
  json::Value v = json::Value::object();
  v["error"] = std::move(e);
  return v;
}

/// Constant-time comparison, so the admin token cannot be guessed a byte at a time from timings.
inline bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t k = 0; k < a.size(); ++k) diff |= static_cast<unsigned char>(a[k] ^ b[k % (b.empty() ? 1 : b.size())]);
  return diff == 0 && !b.empty();
}

}  // namespace detail

/// The whole API behind one call, handle(), which never throws: routing, parsing with limits,
/// the model (swapped atomically by reload(); a request keeps the shared pointer it started with,
/// so it finishes on the model it began on), and the metrics of every answer.
class Service {
 public:
  struct Options {
    Limits limits;
    std::string admin_token;  ///< empty: /admin/* is off (404)
  };

  /// Serves run folder `run_dir` (loaded now; throws when it cannot be).
  Service(std::string run_dir, Options options) : run_dir_(std::move(run_dir)), options_(std::move(options)) {
    install(ServedModel::load(run_dir_, 1));
  }
  /// Serves a model already loaded (tests, the fuzz harness); reload() then reads `run_dir` if given.
  Service(std::shared_ptr<const ServedModel> model, Options options, std::string run_dir = "")
      : run_dir_(std::move(run_dir)), options_(std::move(options)) {
    install(std::move(model));
  }

  /// The model serving now.
  std::shared_ptr<const ServedModel> current() const {
    std::lock_guard<std::mutex> lock(model_mutex_);
    return model_;
  }
  const Metrics& metrics() const { return metrics_; }
  const Options& options() const { return options_; }

  /// From now on /readyz answers 503 (shutting down: take this instance out of the load balancer).
  void set_draining() { draining_ = true; }

  /// Loads the run folder again and, if that works, swaps it in; a failure leaves the current model
  /// serving and is reported (200 with the new version, or 500 naming the error).
  Response reload() {
    std::lock_guard<std::mutex> one_at_a_time(reload_mutex_);
    const std::uint64_t old_version = current()->info().version;
    try {
      if (run_dir_.empty()) throw Error("this server was not started from a run folder");
      std::shared_ptr<const ServedModel> fresh = ServedModel::load(run_dir_, old_version + 1);
      install(fresh);
      metrics_.reload_succeeded(fresh->info().version);
      json::Value v = json::Value::object();
      v["reloaded"] = true;
      v["model"] = fresh->info().kind;
      v["run_id"] = fresh->info().run_id;
      v["model_version"] = fresh->info().version;
      v["trained_at"] = fresh->info().trained_at;
      return {200, json::dump(v) + "\n"};
    } catch (const std::exception& e) {
      std::string message = e.what();
      for (char& c : message)
        if (c == '\n' || c == '\r') c = ' ';
      metrics_.reload_failed(message);
      {
        std::lock_guard<std::mutex> lock(model_mutex_);
        last_reload_error_ = message;
      }
      json::Value v = detail::error_body(500, "run", "reload failed, still serving version " +
                                                         std::to_string(old_version) + ": " + message);
      v["reloaded"] = false;
      v["model_version"] = old_version;
      return {500, json::dump(v) + "\n"};
    }
  }

  /// Answers one request. Never throws: a bad request is a 4xx naming the field, the server's own
  /// trouble a 500, both as {"error": {"code", "field", "message"}}.
  Response handle(const Request& request) {
    const auto start = std::chrono::steady_clock::now();
    ++in_flight_;
    std::string endpoint = "other";
    Response r;
    try {
      try {
        r = route(request, endpoint, start);
      } catch (const RequestError& e) {
        r = {e.status(), json::dump(detail::error_body(e.status(), e.field(), e.what())) + "\n"};
      } catch (const std::exception& e) {
        r = {500, json::dump(detail::error_body(500, "", std::string("internal error: ") + e.what())) + "\n"};
      }
    } catch (const std::exception&) {  // an error message that cannot be written (never expected)
      r = {500, ""};
    }
    if (r.body.empty() && r.status != 200) r.body = "{\"error\":{\"code\":" + std::to_string(r.status) + "}}\n";
    --in_flight_;
    metrics_.record(endpoint, r.status,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return r;
  }

 private:
  using Clock = std::chrono::steady_clock;

  void install(std::shared_ptr<const ServedModel> model) {
    RECSYS_CHECK(model != nullptr, "serve: no model");
    const ModelInfo& i = model->info();
    metrics_.set_model(i.version, {{"run_id", i.run_id},
                                   {"model", i.kind},
                                   {"trained_at", i.trained_at},
                                   {"data_fingerprint", i.data_fingerprint}});
    std::lock_guard<std::mutex> lock(model_mutex_);
    model_ = std::move(model);
  }

  Response route(const Request& q, std::string& endpoint, Clock::time_point start) {
    struct Route {
      const char* path;
      const char* method;
    };
    static constexpr Route routes[] = {{"/v1/recommend", "POST"}, {"/v1/score", "POST"},   {"/v1/similar", "POST"},
                                       {"/v1/model", "GET"},      {"/healthz", "GET"},     {"/readyz", "GET"},
                                       {"/metrics", "GET"},       {"/admin/reload", "POST"}};
    const Route* found = nullptr;
    for (const Route& r : routes)
      if (q.path == r.path) found = &r;
    if (!found) throw RequestError(404, "path", "no endpoint '" + clip(q.path) + "' (see GET /v1/model and docs/serving.md)");
    endpoint = found->path;
    if (q.method != found->method && !(q.method == "HEAD" && std::string_view(found->method) == "GET"))
      throw RequestError(405, "method", endpoint + " takes " + found->method + ", not " + clip(q.method));

    if (endpoint == "/healthz") return ok(status_body("ok"));
    if (endpoint == "/readyz") {
      if (draining_) return {503, json::dump(status_body("draining")) + "\n"};
      json::Value v = status_body("ready");
      v["model_version"] = current()->info().version;
      return ok(v);
    }
    if (endpoint == "/metrics")
      return {200, metrics_.text(in_flight_.load()), "text/plain; version=0.0.4; charset=utf-8"};
    if (endpoint == "/v1/model") return ok(model_json(*current()));
    if (endpoint == "/admin/reload") {
      if (options_.admin_token.empty())
        throw RequestError(404, "path", "admin endpoints are off (start the server with --admin-token-file FILE)");
      const std::string prefix = "Bearer ";
      const std::string& a = q.authorization;
      if (a.compare(0, prefix.size(), prefix) != 0 || !detail::same_secret(a.substr(prefix.size()), options_.admin_token))
        throw RequestError(401, "Authorization", "POST /admin/reload needs the header 'Authorization: Bearer TOKEN' "
                                                 "with the token of --admin-token-file");
      return reload();
    }

    // The model endpoints read a JSON object.
    if (q.body.size() > options_.limits.max_body_bytes)
      throw RequestError(413, "body", "the body has " + std::to_string(q.body.size()) + " bytes; at most " +
                                          std::to_string(options_.limits.max_body_bytes) + " are allowed");
    json::Value body;
    try {
      json::ParseOptions po;
      po.max_depth = 16;
      body = json::parse(q.body, po);
    } catch (const std::exception& e) {
      throw RequestError(400, "body", std::string("the body is not JSON: ") + e.what());
    }
    const std::shared_ptr<const ServedModel> model = current();  // this request's model, whatever reloads do
    if (endpoint == "/v1/recommend") return ok(recommend(*model, body, start));
    if (endpoint == "/v1/score") return ok(score(*model, body));
    return ok(similar(*model, body));
  }

  static std::string clip(const std::string& s) {
    std::string out = s.size() > 60 ? s.substr(0, 57) + "..." : s;
    for (char& c : out)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    return out;
  }
  static Response ok(const json::Value& v) { return {200, json::dump(v) + "\n"}; }
  static json::Value status_body(const char* s) {
    json::Value v = json::Value::object();
    v["status"] = s;
    return v;
  }
  static void stamp(json::Value& v, const ServedModel& m) {
    v["model"] = m.info().kind;
    v["model_version"] = m.info().version;
  }
  static json::Value item_json(const rec::Dataset& d, std::int64_t i, double score) {
    const rec::Item& item = d.items()[static_cast<std::size_t>(i)];
    json::Value v = json::Value::object();
    v["item"] = item.id;
    v["title"] = item.title;
    v["score"] = detail::score_value(score);
    return v;
  }

  json::Value model_json(const ServedModel& m) const {
    const ModelInfo& i = m.info();
    const rec::Dataset& d = m.data();
    json::Value v = json::Value::object();
    v["run_id"] = i.run_id;
    v["run_dir"] = i.run_dir;
    v["model"] = i.kind;
    v["model_version"] = i.version;
    v["data_fingerprint"] = i.data_fingerprint;
    v["trained_at"] = i.trained_at;
    v["loaded_at"] = i.loaded_at;
    json::Value size = json::Value::object();
    size["users"] = d.num_users();
    size["items"] = d.num_items();
    size["interactions"] = d.size();
    v["data_size"] = std::move(size);
    const rec::Capabilities c = m.model().capabilities();
    json::Value caps = json::Value::object();
    caps["recommend"] = true;
    caps["score"] = true;
    caps["similar"] = m.supports_similar();
    caps["predicts_ratings"] = c.predicts_ratings;
    v["capabilities"] = std::move(caps);
    json::Value lim = json::Value::object();
    lim["max_body_bytes"] = options_.limits.max_body_bytes;
    lim["max_batch"] = options_.limits.max_batch;
    lim["max_n"] = options_.limits.max_n;
    lim["max_items"] = options_.limits.max_items;
    lim["request_seconds"] = options_.limits.request_seconds;
    v["limits"] = std::move(lim);
    v["metrics"] = i.metrics;
    std::lock_guard<std::mutex> lock(model_mutex_);
    v["last_reload_error"] = last_reload_error_.empty() ? json::Value() : json::Value(last_reload_error_);
    return v;
  }

  /// Item ids → indices; unknown ids are collected in `unknown` (not an error: catalogues grow).
  static std::vector<std::int64_t> indices(const rec::Dataset& d, const std::vector<std::string>& ids,
                                           std::vector<std::string>* unknown) {
    std::vector<std::int64_t> out;
    out.reserve(ids.size());
    for (const std::string& id : ids) {
      if (const auto i = d.find_item(id)) out.push_back(*i);
      else if (unknown) unknown->push_back(id);
    }
    return out;
  }

  struct Query {
    std::int64_t n = 10;
    bool exclude_seen = true;
    std::vector<std::uint8_t> excluded;               ///< per item: 1 never recommend
    std::optional<std::vector<std::int64_t>> candidates;  ///< rank only these (deduplicated)
  };

  /// One user's list: the model's top n, or the popularity list for a user the model never saw.
  static json::Value recommend_one(const ServedModel& m, const std::string& user, const Query& q) {
    const rec::Dataset& d = m.data();
    const std::optional<std::int64_t> u = d.find_user(user);
    std::vector<rec::ScoredItem> top;
    if (!u) {
      const std::vector<std::uint8_t>* allowed = nullptr;
      std::vector<std::uint8_t> in_candidates;
      if (q.candidates) {
        in_candidates.assign(static_cast<std::size_t>(d.num_items()), 0);
        for (std::int64_t i : *q.candidates) in_candidates[static_cast<std::size_t>(i)] = 1;
        allowed = &in_candidates;
      }
      for (const rec::ScoredItem& s : m.popular()) {
        if (static_cast<std::int64_t>(top.size()) >= q.n) break;
        const auto i = static_cast<std::size_t>(s.item);
        if (q.excluded[i] || (allowed && !(*allowed)[i])) continue;
        top.push_back(s);
      }
    } else {
      std::vector<std::uint8_t> excluded = q.excluded;
      if (q.exclude_seen) m.mark_seen(*u, excluded);
      if (q.candidates) {
        const std::vector<double> s = m.score(*u, *q.candidates);
        std::vector<rec::ScoredItem> c;
        for (std::size_t k = 0; k < s.size(); ++k)
          if (!excluded[static_cast<std::size_t>((*q.candidates)[k])]) c.push_back({(*q.candidates)[k], s[k]});
        top = rec::top_n(std::move(c), q.n);
      } else {
        top = rec::top_n(m.score_all(*u), q.n, excluded);
      }
    }
    json::Value v = json::Value::object();
    v["user"] = user;
    v["cold_start"] = !u.has_value();
    json::Value items = json::Value::array();
    for (const rec::ScoredItem& s : top) items.push_back(item_json(d, s.item, s.score));
    v["items"] = std::move(items);
    return v;
  }

  json::Value recommend(const ServedModel& m, const json::Value& raw, Clock::time_point start) const {
    const Limits& lim = options_.limits;
    const json::Value& body = detail::object_body(raw, {"user", "users", "n", "exclude_seen", "exclude", "candidates"});
    const rec::Dataset& d = m.data();
    Query q;
    q.n = detail::integer_field(body, "n", 1, lim.max_n, 10);
    q.exclude_seen = detail::bool_field(body, "exclude_seen", true);
    q.excluded.assign(static_cast<std::size_t>(d.num_items()), 0);
    if (const auto ex = detail::ids_field(body, "exclude", lim.max_items, false))
      for (std::int64_t i : indices(d, *ex, nullptr)) q.excluded[static_cast<std::size_t>(i)] = 1;
    std::vector<std::string> unknown;
    if (const auto c = detail::ids_field(body, "candidates", lim.max_items, false)) {
      std::vector<std::int64_t> idx = indices(d, *c, &unknown);
      std::sort(idx.begin(), idx.end());
      idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
      q.candidates = std::move(idx);
    }
    const bool one = body.contains("user"), many = body.contains("users");
    if (one == many)
      throw RequestError(400, one ? "users" : "user",
                         one ? "give either \"user\" or \"users\", not both" : "missing field 'user' (or 'users' for a batch)");
    json::Value v = json::Value::object();
    if (one) {
      v = recommend_one(m, detail::id_of(body.at("user"), "user"), q);
    } else {
      const std::vector<std::string> users = *detail::ids_field(body, "users", lim.max_batch, true, false);
      json::Value results = json::Value::array();
      for (std::size_t k = 0; k < users.size(); ++k) {
        if (std::chrono::duration<double>(Clock::now() - start).count() > lim.request_seconds)
          throw RequestError(503, "users", "the request ran past its " + json::dump(json::Value(lim.request_seconds)) +
                                               " s limit after " + std::to_string(k) + " of " +
                                               std::to_string(users.size()) + " users; ask for fewer at a time");
        results.push_back(recommend_one(m, users[k], q));
      }
      v["results"] = std::move(results);
    }
    if (!unknown.empty()) {
      json::Value u = json::Value::array();
      for (const std::string& id : unknown) u.push_back(id);
      v["unknown_items"] = std::move(u);
    }
    stamp(v, m);
    return v;
  }

  json::Value score(const ServedModel& m, const json::Value& raw) const {
    const json::Value& body = detail::object_body(raw, {"user", "items"});
    if (!body.contains("user")) throw RequestError(400, "user", "missing field 'user'");
    const std::string user = detail::id_of(body.at("user"), "user");
    const std::vector<std::string> ids = *detail::ids_field(body, "items", options_.limits.max_items, true, false);
    const rec::Dataset& d = m.data();
    std::vector<std::string> unknown;
    const std::vector<std::int64_t> known = indices(d, ids, &unknown);
    const std::optional<std::int64_t> u = d.find_user(user);
    std::vector<double> s;
    if (u) {
      s = m.score(*u, known);
    } else {
      for (std::int64_t i : known) s.push_back(m.popularity(i));
    }
    json::Value v = json::Value::object();
    v["user"] = user;
    v["cold_start"] = !u.has_value();
    json::Value scores = json::Value::array();
    std::size_t k = 0;
    for (const std::string& id : ids) {
      json::Value e = json::Value::object();
      e["item"] = id;
      const auto i = d.find_item(id);
      e["score"] = i ? detail::score_value(s[k++]) : json::Value();
      scores.push_back(std::move(e));
    }
    v["scores"] = std::move(scores);
    if (!unknown.empty()) {
      json::Value un = json::Value::array();
      for (const std::string& id : unknown) un.push_back(id);
      v["unknown_items"] = std::move(un);
    }
    stamp(v, m);
    return v;
  }

  json::Value similar(const ServedModel& m, const json::Value& raw) const {
    const json::Value& body = detail::object_body(raw, {"item", "n"});
    if (!body.contains("item")) throw RequestError(400, "item", "missing field 'item'");
    const std::string id = detail::id_of(body.at("item"), "item");
    const std::int64_t n = detail::integer_field(body, "n", 1, options_.limits.max_n, 10);
    const rec::Dataset& d = m.data();
    const std::optional<std::int64_t> i = d.find_item(id);
    if (!i) throw RequestError(404, "item", "unknown item id '" + clip(id) + "'");
    if (!m.supports_similar())
      throw RequestError(501, "item", "model '" + m.info().kind + "' has no item vectors to compare (similar items come "
                                      "from mf and itemknn runs)");
    const std::vector<rec::ScoredItem> top = m.similar(*i, n).value();
    json::Value v = json::Value::object();
    v["item"] = id;
    v["title"] = d.items()[static_cast<std::size_t>(*i)].title;
    json::Value items = json::Value::array();
    for (const rec::ScoredItem& s : top) items.push_back(item_json(d, s.item, s.score));
    v["items"] = std::move(items);
    stamp(v, m);
    return v;
  }

  std::string run_dir_;
  Options options_;
  Metrics metrics_;
  mutable std::mutex model_mutex_;  ///< guards model_ and last_reload_error_
  std::shared_ptr<const ServedModel> model_;
  std::string last_reload_error_;
  std::mutex reload_mutex_;
  std::atomic<bool> draining_{false};
  std::atomic<std::int64_t> in_flight_{0};
};

}  // namespace recsys::serve
