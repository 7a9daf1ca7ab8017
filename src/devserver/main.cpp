// refold-devserver: a local OAuth 2.0 sandbox provider. See usage_text() and
// docs/devserver.md.
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "counters.hpp"
#include "faults.hpp"
#include "handlers.hpp"
#include "options.hpp"
#include "provider.hpp"
#include "server.hpp"

using namespace refold::devserver;

int main(int argc, char** argv) {
  // A peer that vanishes mid-write must be an error code, not a dead
  // process.
  std::signal(SIGPIPE, SIG_IGN);

  Options options;
  try {
    options = parse_options(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "refold-devserver: %s\n", e.what());
    return 2;
  }
  if (options.help) {
    std::fputs(usage_text(), stdout);
    return 0;
  }

  try {
    Counters counters;
    Faults faults;
    Provider provider(options.clients, options.access_token_ttl, options.auto_approve,
                      options.refresh_policy);
    Server server(ServerOptions{options.host, options.port, options.tls_cert, options.tls_key,
                                options.verbose},
                  counters.connections);

    std::string host = options.host.find(':') != std::string::npos ? "[" + options.host + "]"
                                                                   : options.host;
    std::string base_url = std::string(server.tls() ? "https" : "http") + "://" + host + ":" +
                           std::to_string(server.port());
    Site site{base_url, options.issuer.empty() ? base_url : options.issuer};
    Router router(provider, counters, faults, site);

    // The one line a test or script reads to find the port; flushed now
    // because stdout is a pipe then, and pipes are block-buffered.
    boost::json::object ready{{"port", server.port()}, {"base_url", site.base_url},
                              {"issuer", site.issuer}};
    std::string line = boost::json::serialize(ready) + "\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);

    server.run([&router](const HttpRequest& request) { return router.handle(request); });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "refold-devserver: %s\n", e.what());
    return 1;
  }
  return 0;
}
