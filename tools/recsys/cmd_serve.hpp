// tools/recsys/cmd_serve.hpp — `recsys serve RUN`: the run's model behind a JSON HTTP API (tools/serve/), built only where cpp-httplib is found.
#pragma once

#include <cstdio>
#include <string>

#include "recsys/core/error.hpp"

#include "args.hpp"
#include "run_folder.hpp"

#if RECSYS_HAVE_HTTPLIB
#include "../serve/http_server.hpp"
#endif
#include "../serve/service.hpp"

namespace recsys::cli {

inline const CommandSpec& serve_spec() {
  static const CommandSpec spec{
      .name = "serve",
      .summary = "Serve a trained run over HTTP: recommend, score, similar items, metrics, hot reload.",
      .details = "Endpoints (JSON in and out; docs/serving.md has a curl session):\n"
                 "  POST /v1/recommend {\"user\": \"42\", \"n\": 10, \"exclude_seen\": true, \"exclude\": [...], \"candidates\": [...]}\n"
                 "                     or {\"users\": [\"1\", \"2\"], ...} for a batch; an unknown user gets the popularity\n"
                 "                     list with \"cold_start\": true\n"
                 "  POST /v1/score     {\"user\": \"42\", \"items\": [\"1\", \"50\"]}\n"
                 "  POST /v1/similar   {\"item\": \"318\", \"n\": 10} (mf and itemknn runs)\n"
                 "  GET  /v1/model, /healthz, /readyz, /metrics (Prometheus text)\n"
                 "  POST /admin/reload with 'Authorization: Bearer TOKEN' (only with --admin-token-file)\n"
                 "SIGHUP reloads the run folder too; a failed reload keeps the old model serving. SIGTERM or\n"
                 "SIGINT stop taking connections, finish the requests in flight and exit 0. The server binds to\n"
                 "127.0.0.1 unless --host says otherwise; it has no TLS: put a proxy in front to expose it.",
      .positionals = {{"RUN", "run folder written by recsys train"}},
      .options = {{"host", "ADDR", "address to listen on", "127.0.0.1"},
                  {"port", "N", "TCP port (0: any free port; the line on stdout says which)", "8080"},
                  {"threads", "N", "worker threads (each serves one connection at a time)", "8"},
                  {"admin-token-file", "FILE", "file holding the bearer token for /admin/*; without it they are off", ""},
                  {"max-body", "BYTES", "largest request body", "1048576"},
                  {"max-batch", "N", "most users in one batch recommend", "1000"},
                  {"max-n", "N", "longest list (n) a request may ask for", "1000"},
                  {"max-items", "N", "most ids in items, candidates or exclude", "10000"},
                  {"request-timeout", "SECONDS", "a batch still running after this answers 503", "10"},
                  {"read-timeout", "SECONDS", "drop a client that sends nothing for this long", "5"}},
      .examples = "  recsys serve runs/mf --port 8080\n"
                  "  curl -s localhost:8080/v1/recommend -d '{\"user\": \"1\", \"n\": 5}'\n"
                  "  recsys serve runs/mf --port 0 --threads 2 --admin-token-file token.txt\n"};
  return spec;
}

/// The admin token: the file's first line without surrounding white space; it must not be empty.
inline std::string read_admin_token(const std::string& path) {
  std::string text = read_text(path);
  const std::size_t end = text.find_first_of("\r\n");
  if (end != std::string::npos) text.resize(end);
  const std::size_t a = text.find_first_not_of(" \t"), b = text.find_last_not_of(" \t");
  RECSYS_CHECK(a != std::string::npos, "'", path, "' holds no token (its first line is empty)");
  return text.substr(a, b - a + 1);
}

inline int run_serve(const Args& args) {
  serve::Service::Options so;
  so.limits.max_body_bytes = static_cast<std::size_t>(args.integer("max-body", 64, std::int64_t{1} << 30));
  so.limits.max_batch = static_cast<std::size_t>(args.integer("max-batch", 1, 1000000));
  so.limits.max_n = args.integer("max-n", 1, 1000000);
  so.limits.max_items = static_cast<std::size_t>(args.integer("max-items", 1, 10000000));
  so.limits.request_seconds = args.number("request-timeout", 0.001, 3600);
#if RECSYS_HAVE_HTTPLIB
  serve::HttpOptions ho;
  ho.host = args.str("host");
  ho.port = static_cast<int>(args.integer("port", 0, 65535));
  ho.threads = static_cast<int>(args.integer("threads", 1, 1024));
  ho.read_timeout_s = static_cast<int>(args.integer("read-timeout", 1, 3600));
  if (args.given("admin-token-file")) so.admin_token = read_admin_token(args.str("admin-token-file"));
  serve::Service service(args.positional(0), so);
  return serve::run_http(service, ho, stdout);
#else
  RECSYS_FAIL("this recsys was built without cpp-httplib, so it cannot serve (install libcpp-httplib-dev, e.g. with "
              "scripts/setup.sh, and build again)");
#endif
}

}  // namespace recsys::cli
