// The scheduler's parts on their own: the per-app gate (cap, foreground
// first, Retry-After pause) and the group commit.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/lifecycle/group_commit.hpp"
#include "core/lifecycle/scheduler.hpp"
#include "store/sqlite.hpp"
#include "temp_store.hpp"
#include "util/error.hpp"

using namespace refold;
using namespace refold::core::lifecycle;

namespace {

struct ManualClock final : Clock {
  std::atomic<Millis> ms{1000};
  Millis now() const override { return ms.load(); }
};

template <class Done>
bool eventually(Done&& done) {
  for (int i = 0; i < 4000 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return done();
}

}  // namespace

TEST_CASE("gate: an app's cap holds, other apps are not held by it") {
  ManualClock clock;
  AppGate gate(clock, 0, {{"slack", 2}});
  CHECK(gate.try_enter("slack"));
  CHECK(gate.try_enter("slack"));
  CHECK_FALSE(gate.try_enter("slack"));
  CHECK(gate.blocked() == std::vector<std::string>{"slack"});
  for (int i = 0; i < 10; ++i) CHECK(gate.try_enter("github"));  // no cap
  gate.leave("slack");
  CHECK(gate.try_enter("slack"));
  CHECK(gate.peak("slack") == 2);
  CHECK(gate.peak("github") == 10);
}

TEST_CASE("gate: a foreground caller gets the next slot before background work") {
  ManualClock clock;
  AppGate gate(clock, 1, {});
  REQUIRE(gate.try_enter("slack"));
  std::atomic<bool> in{false};
  std::thread fg([&] {
    gate.enter("slack");
    in = true;
  });
  REQUIRE(eventually([&] { return gate.waiting("slack") == 1; }));
  CHECK_FALSE(in.load());
  gate.leave("slack");
  REQUIRE(eventually([&] { return in.load(); }));
  CHECK_FALSE(gate.try_enter("slack"));  // the foreground caller holds it
  fg.join();
  gate.leave("slack");
  CHECK(gate.try_enter("slack"));
}

TEST_CASE("gate: a pause holds background work and fails foreground callers until it ends") {
  ManualClock clock;
  AppGate gate(clock, 0, {});
  gate.pause("slack", 5000);
  CHECK_FALSE(gate.try_enter("slack"));
  CHECK(gate.try_enter("github"));
  try {
    gate.enter("slack");
    FAIL("entered a paused app");
  } catch (const Error& e) {
    CHECK(e.code() == REFOLD_EPROVIDER);
    CHECK(std::string(e.what()).find("app 'slack'") != std::string::npos);
    CHECK(std::string(e.what()).find("Retry-After") != std::string::npos);
  }
  CHECK(gate.waiting("slack") == 0);
  clock.ms = 5000;
  CHECK(gate.try_enter("slack"));
  gate.enter("slack");
}

TEST_CASE("group commit: refreshes completing together share one transaction") {
  test::TempStore t;
  t.store->migrate();
  auto keys = t.store->ensure_data_key([](std::int64_t id) {
    return store::DataKey{id, store::Bytes(24, 1), store::Bytes(48, 2), 0};
  });
  const std::int64_t key = keys.at(0).id;
  auto sealed = [key](std::uint8_t fill) {
    return [s = store::Sealed{key, store::Bytes(24, fill), store::Bytes(40, fill)}](std::int64_t) { return s; };
  };
  constexpr int kN = 8;
  std::vector<store::RefreshSave> saves;
  for (int i = 0; i < kN; ++i) {
    store::ConnectionId id{"acct" + std::to_string(i), "sandbox", "oauth2"};
    t.store->upsert(id, sealed(1), 1000, 5000, 4000);
    REQUIRE(t.store->acquire_lease(id, "me", 2000, 9000).state == store::LeaseResult::State::acquired);
    store::RefreshSave s{id, "me", t.store->find(id.account, id.app)->connection.version, {}};
    s.tokens.seal = sealed(static_cast<std::uint8_t>(2 + i));
    s.tokens.expires_at = 9000;
    saves.push_back(std::move(s));
  }
  // Another connection holds SQLite's write lock while the refreshes
  // complete: the first save waits for it, the rest queue behind.
  sqlite::Db blocker(t.store->path());
  blocker.exec("BEGIN IMMEDIATE");
  ManualClock clock;
  GroupCommit commits(*t.store, clock);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kN; ++i)
    threads.emplace_back([&, i] {
      if (commits.save(saves[static_cast<std::size_t>(i)])) ++ok;
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  blocker.exec("COMMIT");
  for (auto& th : threads) th.join();
  CHECK(ok.load() == kN);
  CHECK(commits.saved() == kN);
  CHECK(commits.batches() < kN);  // at least two saves shared a commit
  for (int i = 0; i < kN; ++i)
    CHECK(t.store->find("acct" + std::to_string(i), "sandbox")->sealed.nonce ==
          store::Bytes(24, static_cast<std::uint8_t>(2 + i)));
  // A fenced save is refused, and the next batch still works.
  CHECK_FALSE(commits.save(saves[0]));
}
