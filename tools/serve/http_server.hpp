// tools/serve/http_server.hpp — the Service on a socket: cpp-httplib's server, a thread pool, timeouts, and the signals (SIGHUP reloads; SIGTERM/SIGINT stop taking connections, finish what is in flight and return).
#pragma once

#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>

#include "recsys/core/error.hpp"
#include "recsys/io/json.hpp"

#include "service.hpp"

namespace recsys::serve {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;        ///< 0: any free port (printed)
  int threads = 8;        ///< worker threads; each holds one connection at a time (keep-alive included)
  int read_timeout_s = 5;    ///< a client that sends nothing for this long is dropped
  int write_timeout_s = 5;
  int keep_alive_s = 2;      ///< idle keep-alive connections close after this (also bounds shutdown)
  int keep_alive_requests = 1000;
};

/// Serves until SIGTERM or SIGINT; returns 0 after a graceful stop. Prints one line
/// "recsys serve: listening on http://HOST:PORT/ ..." on `out` once the port is bound.
inline int run_http(Service& service, const HttpOptions& o, std::FILE* out) {
  // Every thread the server starts inherits this mask; only the waiter below takes the signals.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);  // a client that hangs up mid-answer is its own problem

  httplib::Server server;
  const int threads = o.threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  server.set_payload_max_length(service.options().limits.max_body_bytes);
  server.set_read_timeout(o.read_timeout_s, 0);
  server.set_write_timeout(o.write_timeout_s, 0);
  server.set_keep_alive_timeout(o.keep_alive_s);
  server.set_keep_alive_max_count(static_cast<std::size_t>(o.keep_alive_requests));
  // httplib writes the headers and the body in two sends: with Nagle's algorithm on, the body waits for
  // the client's delayed ACK of the headers (40 ms on Linux) on every keep-alive request.
  server.set_tcp_nodelay(true);

  const auto handler = [&service](const httplib::Request& req, httplib::Response& res) {
    const Response r = service.handle({req.method, req.path, req.body, req.get_header_value("Authorization")});
    res.status = r.status;
    res.set_content(r.body, r.content_type.c_str());
  };
  for (const char* any : {".*"}) {
    server.Get(any, handler);
    server.Post(any, handler);
    server.Put(any, handler);
    server.Patch(any, handler);
    server.Delete(any, handler);
    server.Options(any, handler);
  }
  // Answers httplib gives itself (413 for a body over the limit, 400 for a request it cannot parse)
  // get the same JSON error shape as the handlers'.
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string why = res.status == 413 ? "the body is larger than the server's limit (see GET /v1/model)"
                                              : "the HTTP request was refused (status " + std::to_string(res.status) + ")";
    res.set_content(json::dump(detail::error_body(res.status, res.status == 413 ? "body" : "", why)) + "\n",
                    "application/json");
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content(json::dump(detail::error_body(500, "", "internal error")) + "\n", "application/json");
  });

  int port = o.port;
  if (port == 0) port = server.bind_to_any_port(o.host);
  else if (!server.bind_to_port(o.host, port)) port = -1;
  RECSYS_CHECK(port > 0, "cannot listen on ", o.host, ":", o.port, " (is the port taken, or the host not an address of "
               "this machine?)");
  const ModelInfo& info = service.current()->info();
  std::fprintf(out, "recsys serve: listening on http://%s:%d/ (%s model from %s, %d threads)\n", o.host.c_str(), port,
               info.kind.c_str(), info.run_dir.c_str(), o.threads);
  std::fflush(out);

  std::atomic<bool> stopping{false};
  std::thread waiter([&] {
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (sig == SIGHUP && !stopping) {
        const Response r = service.reload();
        std::fprintf(stderr, "recsys serve: SIGHUP reload: %s", r.body.c_str());
        continue;
      }
      if (sig == SIGHUP) continue;
      if (!stopping.exchange(true)) {
        std::fprintf(stderr, "recsys serve: %s: finishing the requests in flight, then stopping\n",
                     sig == SIGINT ? "SIGINT" : "SIGTERM");
        service.set_draining();
        server.stop();
      }
      return;
    }
  });
  server.listen_after_bind();  // returns once stop() was called and the pool has finished its work
  const bool by_signal = stopping.exchange(true);
  if (!by_signal) pthread_kill(waiter.native_handle(), SIGTERM);  // the socket failed: wake the waiter
  waiter.join();
  std::fprintf(stderr, "recsys serve: stopped\n");
  return by_signal ? 0 : 1;
}

}  // namespace recsys::serve
