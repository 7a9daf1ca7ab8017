// The after-connect lookup (catalog::AfterConnect): one request made with a
// connect's new access token whose answer fills connection metadata.
#pragma once

#include "catalog/catalog.hpp"
#include "http/client.hpp"
#include "oauth/token_response.hpp"

namespace refold::oauth {

// Runs the app's after_connect request, if it declares one, with `t`'s
// access token, and adds each value its answer gives to t.metadata (as
// text). Throws refold::Error naming the app and never a value: the
// transport's code (REFOLD_ENETWORK, REFOLD_ETIMEOUT, REFOLD_ECANCELLED)
// when the provider cannot be reached, REFOLD_EPROVIDER when it answers
// with another status than 2xx, something other than JSON, or without a
// value the app keeps. `cancel` may be null. Thread-safe as `http` is.
void run_after_connect(http::HttpClient& http, const catalog::App& app, TokenSet& t,
                       const std::atomic<bool>* cancel = nullptr);

}  // namespace refold::oauth
