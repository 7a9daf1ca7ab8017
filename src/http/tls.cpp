#include "http/tls.hpp"

#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>

#include "util/error.hpp"

namespace asio = boost::asio;

namespace refold::http::detail {

asio::ssl::context make_tls_context(const std::string& ca_file) {
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  SSL_CTX* native = ctx.native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1)
    fail(REFOLD_ERROR, "TLS: cannot set the minimum protocol version");
  // Compression invites CRIME-style attacks; renegotiation is never needed
  // for a short request.
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  boost::system::error_code ec;
  // A machine without a system store still works with ca_file alone; every
  // certificate then fails verification with a clear reason.
  ctx.set_default_verify_paths(ec);
  if (!ca_file.empty()) {
    ctx.load_verify_file(ca_file, ec);
    if (ec) fail(REFOLD_EINVALID, "ca_file '" + ca_file + "': cannot load CA certificates: " + ec.message());
  }
  return ctx;
}

void expect_host(SSL* ssl, const std::string& host) {
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  bool ok = !ec ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1
                : SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 && SSL_set1_host(ssl, host.c_str()) == 1;
  if (!ok) fail(REFOLD_ERROR, "TLS: cannot set the expected host name");
}

namespace {

std::string verify_reason(long result, const std::string& host) {
  switch (result) {
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      return "self-signed certificate";
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return "self-signed certificate in the chain (its root CA is not trusted)";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
      return "the certificate's issuer is not a trusted CA";
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return "certificate has expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "certificate is not yet valid";
    case X509_V_ERR_HOSTNAME_MISMATCH:
      return "host name mismatch: the certificate is not valid for '" + host + "'";
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return "host name mismatch: the certificate is not valid for the IP address " + host;
    case X509_V_ERR_CERT_REVOKED:
      return "certificate has been revoked";
    default:
      return X509_verify_cert_error_string(result);
  }
}

}  // namespace

std::string describe_handshake_failure(const SSL* ssl, const boost::system::error_code& ec,
                                       const std::string& host) {
  long result = SSL_get_verify_result(ssl);
  if (result != X509_V_OK) return "certificate verify failed: " + verify_reason(result, host);
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)
    return "TLS handshake failed: the server closed the connection";
  if (ec == asio::error::connection_reset) return "TLS handshake failed: connection reset by the server";
  return "TLS handshake failed: " + ec.message();
}

}  // namespace refold::http::detail
