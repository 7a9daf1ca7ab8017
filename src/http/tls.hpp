// TLS client setup and the words for TLS failures. Only the connection code
// includes this: it brings in Asio's SSL and OpenSSL headers.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <string>

namespace refold::http::detail {

// A client context: TLS 1.2 minimum, peer verification on, the system CA
// store plus `ca_file` (PEM) when given. Throws REFOLD_EINVALID when
// `ca_file` cannot be loaded.
boost::asio::ssl::context make_tls_context(const std::string& ca_file);

// Sets SNI (DNS names only; RFC 6066 forbids IP literals there) and the
// name or IP address the certificate must match, so OpenSSL checks the host
// as part of chain verification and reports a mismatch as such.
void expect_host(SSL* ssl, const std::string& host);

// Why a handshake failed, in plain words: the certificate verification
// result when verification failed, else the TLS error.
std::string describe_handshake_failure(const SSL* ssl, const boost::system::error_code& ec,
                                       const std::string& host);

}  // namespace refold::http::detail
