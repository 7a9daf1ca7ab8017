// How OAuth tokens are kept inside a sealed connection record, and what of
// them a credential read hands out (never the refresh token).
#pragma once

#include <string>
#include <string_view>

#include "crypto/secure.hpp"
#include "oauth/token_response.hpp"

namespace refold::core {

// The plaintext to seal: {"auth_type":"oauth2","access_token",
// "token_type","expires_at"(ms or null),"scopes",["refresh_token"],
// ["refresh_token_expires_at"(ms)],["connection":{...}],["metadata":{...}],
// ["api_base_url"],["user":{"access_token","token_type","expires_at",
// "scopes",["refresh_token"],["id"]}]}.
// `auth_type` is "oauth2" or "oauth2_cc"; a connection's own client adds
// ["client_id","client_secret"].
crypto::SecretString oauth_record(const oauth::TokenSet& tokens, std::string_view auth_type = "oauth2");

// The connection's non-secret config column: {"metadata":{...},
// "api_base_url":...,"connection":{...},"refresh_token_expires_at":RFC 3339}
// with the members it has, "{}" without any. What listings show without
// opening the sealed record.
std::string connection_config(const oauth::TokenSet& t);

// The tokens of a stored record.
oauth::TokenSet read_oauth_record(std::string_view record);

// The credentials JSON of a stored record (never its refresh token or
// client secret): {"auth_type":"oauth2" or "oauth2_cc",
// "access_token","token_type","expires_at"(RFC 3339 or null),"scopes",
// ["refresh_token_expires_at"(RFC 3339)], ["connection"], ["metadata"],
// ["api_base_url"], ["client_id"], ["user":{"access_token","token_type",
// "expires_at"(RFC 3339 or null),"scopes",["id"]}]}.
crypto::WipedBytes oauth_credentials(std::string_view record);

}  // namespace refold::core
