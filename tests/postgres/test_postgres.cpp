// The PostgreSQL store's own promises, beyond the API cases it shares with
// the SQLite store: how a store URI is read and shown, where the master key
// may come from, schemas, what the database holds, several instances on one
// store, and a server that goes away and comes back.
#include "devserver.hpp"
#include "pg_fixture.hpp"

#include <libpq-fe.h>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

using namespace refold_test;

namespace {

// `uri` with its password replaced.
std::string with_password(const std::string& uri, const std::string& password) {
  const std::size_t user = uri.find("://") + 3;
  const std::size_t colon = uri.find(':', user);
  const std::size_t at = uri.find('@', user);
  return uri.substr(0, colon + 1) + password + uri.substr(at);
}

// Polls `done` every 20 ms for up to 10 s; whether it came true.
template <class F>
bool eventually(F&& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

}  // namespace

TEST_CASE("postgresql: another scheme is refused by name, and a SQLite path is still a path") {
  const std::string key = random_hex_key();
  for (const char* store : {"mysql://u:pw-9f8e7d@db.example/app", "file://tmp/x.db", "Redis://h/0"}) {
    ClientPtr c;
    CHECK(try_open(pg_config(store, key), c) == REFOLD_EINVALID);
    const std::string e = last_error();
    CHECK(contains(e, "'store'"));
    CHECK(contains(e, std::string(store).substr(0, std::string(store).find("://") + 3)));
    CHECK_FALSE(contains(e, "pw-9f8e7d"));
  }
  // A SQLite store takes no postgresql_* key.
  TempDir dir;
  ClientPtr c;
  CHECK(try_open(pg_config(dir.store(), key, {{"postgresql_schema", "x"}}), c) == REFOLD_EINVALID);
  CHECK(contains(last_error(), "postgresql_schema"));
  CHECK_FALSE(file_exists(dir.store()));
}

TEST_CASE("postgresql: the URI's password is in no error") {
  const std::string uri = *postgres_uri();
  const std::string wrong = "Wr0ng-" + random_token(20);
  ClientPtr c;
  CHECK(try_open(pg_config(with_password(uri, wrong), random_hex_key()), c) == REFOLD_ESTORE);
  std::string e = last_error();
  CHECK(contains(e, "cannot connect"));
  CHECK(contains(e, "refold@127.0.0.1"));
  CHECK_FALSE(contains(e, wrong));
  CHECK_FALSE(contains(e, password_of(uri)));

  // The password as a query parameter.
  const std::string bare = uri.substr(0, uri.find("://") + 3) + "refold" + uri.substr(uri.find('@'));
  CHECK(try_open(pg_config(bare + "?password=" + wrong + "&connect_timeout=5", random_hex_key()), c) ==
        REFOLD_ESTORE);
  e = last_error();
  CHECK(contains(e, "connect_timeout=5"));
  CHECK_FALSE(contains(e, wrong));

  // A password libpq would read in part as a host or port, or a password
  // parameter spelled with escapes, is never shown either.
  const std::string hostport = uri.substr(uri.find('@') + 1);
  for (const std::string& bad : {"postgresql://refold:ab/" + wrong + "@" + hostport,
                                 "postgresql://refold:a@" + wrong + "@" + hostport,
                                 "postgresql://refold:a?" + wrong + "@" + hostport}) {
    CHECK(try_open(pg_config(bad, random_hex_key()), c) == REFOLD_EINVALID);
    e = last_error();
    CHECK(contains(e, "percent-encode"));
    CHECK_FALSE(contains(e, wrong));
  }
  CHECK(try_open(pg_config(bare + "?pass%77ord=" + wrong + "&connect_timeout=5", random_hex_key()), c) ==
        REFOLD_ESTORE);
  e = last_error();
  CHECK(contains(e, "password authentication failed"));
  CHECK_FALSE(contains(e, wrong));
  // A schema name longer than a notification channel allows.
  CHECK(try_open(pg_config(uri, random_hex_key(), {{"postgresql_schema", std::string(57, 's')}}), c) ==
        REFOLD_EINVALID);
  CHECK(contains(last_error(), "1 to 56"));

  // A bad schema name is named, the URI not echoed with its password.
  CHECK(try_open(pg_config(uri, random_hex_key(), {{"postgresql_schema", "Bad-Name"}}), c) == REFOLD_EINVALID);
  e = last_error();
  CHECK(contains(e, "postgresql_schema"));
  CHECK_FALSE(contains(e, password_of(uri)));
}

TEST_CASE("postgresql: the master key comes from config or the environment, never a file refold makes") {
  const std::string uri = new_postgres_database();
  TempDir cwd_probe;
  json::object o;
  o["store"] = uri;
  ClientPtr c;
  CHECK(try_open(to_json(o), c) == REFOLD_EINVALID);
  const std::string e = last_error();
  for (const char* where : {"master_key", "key_file", "passphrase", "REFOLD_MASTER_KEY"}) CHECK(contains(e, where));
  CHECK_FALSE(contains(e, password_of(uri)));
  // Nothing was made in the database either.
  CHECK(pg_exec(uri, "SELECT count(*) FROM pg_namespace WHERE nspname = 'refold'") == "0");

  // From the environment, and from a passphrase.
  const std::string key = random_hex_key();
  {
    ScopedEnv env("REFOLD_MASTER_KEY", key);
    ClientPtr a = open_client(to_json(o));
    connect_ok(a.get(), "acct", "twilio", twilio_payload(random_token()));
  }
  CHECK(credential_fields(open_client(pg_config(uri, key)).get(), "acct", "twilio").size() > 0);

  const std::string other = new_postgres_database();
  json::object p;
  p["store"] = other;
  p["passphrase"] = "correct horse battery staple";
  const std::string token = random_token();
  connect_ok(open_client(to_json(p)).get(), "acct", "twilio", twilio_payload(token));
  CHECK(field_is(credential_fields(open_client(to_json(p)).get(), "acct", "twilio"), "auth_token", token));
}

TEST_CASE("postgresql: a wrong master key is refused at open and changes nothing") {
  Store s;
  const std::string token = random_token();
  connect_ok(open_client(s.config()).get(), "acct", "twilio", twilio_payload(token));
  ClientPtr c;
  CHECK(try_open(make_config(s.path, random_hex_key()), c) != REFOLD_OK);
  CHECK(contains(last_error(), "master key"));
  CHECK(field_is(credential_fields(open_client(s.config()).get(), "acct", "twilio"), "auth_token", token));
}

TEST_CASE("postgresql: each postgresql_schema is a store of its own, secrets sealed in it") {
  const std::string uri = new_postgres_database();
  const std::string key = random_hex_key();
  ClientPtr one = open_client(pg_config(uri, key, {{"postgresql_schema", "one"}}));
  ClientPtr two = open_client(pg_config(uri, key, {{"postgresql_schema", "two"}}));
  const std::string token = random_token();
  connect_ok(one.get(), "acct", "twilio", twilio_payload(token));
  CHECK(list_connections(one.get(), nullptr).size() == 1);
  CHECK(list_connections(two.get(), nullptr).empty());
  CHECK(pg_exec(uri, "SELECT count(*) FROM one.connections") == "1");
  CHECK(pg_exec(uri, "SELECT count(*) FROM two.connections") == "0");
  CHECK(pg_exec(uri, "SELECT max(version) FROM one.schema_version") == "3");
  // The token is nowhere in clear.
  CHECK(pg_exec(uri, "SELECT count(*) FROM one.connections WHERE position(convert_to('" + token +
                         "', 'UTF8') in ciphertext) > 0 OR config LIKE '%" + token + "%'") == "0");

  // A row copied into another store, under the same master key, does not
  // open there: the store id is bound into every record.
  pg_exec(uri,
          "INSERT INTO two.connections SELECT * FROM one.connections;"
          "UPDATE two.connections SET key_id = (SELECT max(id) FROM two.data_keys)");
  ClientPtr fresh = open_client(pg_config(uri, key, {{"postgresql_schema", "two"}}));
  int rc = 0;
  const std::string got = get_credentials(fresh.get(), "acct", "twilio", rc);
  CHECK(rc == REFOLD_ECRYPTO);
  CHECK_FALSE(contains(got, token));
  CHECK_FALSE(contains(last_error(), token));
}

TEST_CASE("postgresql: what one instance changes, another sees") {
  Store s;
  ClientPtr a = open_client(s.config());
  ClientPtr b = open_client(s.config());
  const std::string t1 = random_token(), t2 = random_token();
  connect_ok(a.get(), "acct", "twilio", twilio_payload(t1));
  CHECK(field_is(credential_fields(b.get(), "acct", "twilio"), "auth_token", t1));  // cached in b now
  connect_ok(a.get(), "acct", "twilio", twilio_payload(t2));
  CHECK(eventually([&] {
    int rc = 0;
    const std::string text = get_credentials(b.get(), "acct", "twilio", rc);
    return rc == REFOLD_OK && contains(text, t2);
  }));
  REQUIRE(refold_disconnect(a.get(), "acct", "twilio") == REFOLD_OK);
  CHECK(eventually([&] {
    int rc = 0;
    get_credentials(b.get(), "acct", "twilio", rc);
    return rc == REFOLD_ENOTFOUND;
  }));

  // Each client listens for the others' changes on a connection of its
  // own. With those connections cut, a change is still seen (the clients
  // consult the change log meanwhile), and they listen again.
  const auto listeners = [&] {
    return pg_exec(s.path, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                           " AND query LIKE 'LISTEN%'");
  };
  // A client listens from its first read on.
  connect_ok(a.get(), "acct", "twilio", twilio_payload(random_token()));
  credential_fields(a.get(), "acct", "twilio");
  REQUIRE(eventually([&] { return listeners() == "2"; }));
  const std::string t3 = random_token();
  connect_ok(a.get(), "acct", "twilio", twilio_payload(t3));
  CHECK(eventually([&] {
    int rc = 0;
    return contains(get_credentials(b.get(), "acct", "twilio", rc), t3);
  }));
  pg_exec(s.path, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                  " AND query LIKE 'LISTEN%'");
  const std::string t4 = random_token();
  connect_ok(a.get(), "acct", "twilio", twilio_payload(t4));
  CHECK(eventually([&] {
    int rc = 0;
    return contains(get_credentials(b.get(), "acct", "twilio", rc), t4);
  }));
  CHECK(eventually([&] { return listeners() == "2"; }));
}

TEST_CASE("postgresql: while the server is down calls fail with REFOLD_ESTORE, and work again after") {
  PrivateServer server;
  const std::string uri = server.uri();
  const std::string key = random_hex_key();
  ClientPtr c = open_client(pg_config(uri, key, {{"postgresql_connect_timeout_ms", 2000}}));
  const std::string kept = random_token();
  connect_ok(c.get(), "kept", "twilio", twilio_payload(kept));

  REQUIRE(server.run("pause") == 0);
  CHECK(refold_connect(c.get(), "acct", "twilio", twilio_payload(random_token()).c_str()) == REFOLD_ESTORE);
  std::string e = last_error();
  CHECK(contains(e, "PostgreSQL store"));
  CHECK_FALSE(contains(e, password_of(uri)));
  char* out = nullptr;
  CHECK(refold_list_connections(c.get(), nullptr, &out) == REFOLD_ESTORE);
  CHECK(out == nullptr);
  ClientPtr other;
  CHECK(try_open(pg_config(uri, key), other) == REFOLD_ESTORE);
  CHECK_FALSE(contains(last_error(), password_of(uri)));

  REQUIRE(server.run("resume") == 0);
  // The same client, no restart: the broken sessions were dropped.
  const std::string token = random_token();
  CHECK(eventually([&] {
    return refold_connect(c.get(), "acct", "twilio", twilio_payload(token).c_str()) == REFOLD_OK;
  }));
  CHECK(field_is(credential_fields(c.get(), "acct", "twilio"), "auth_token", token));
  CHECK(field_is(credential_fields(c.get(), "kept", "twilio"), "auth_token", kept));
}

TEST_CASE("postgresql: a SQLite store's connections copied into PostgreSQL read the same there") {
  TempDir dir;
  const std::string sqlite_key = random_hex_key();
  ClientPtr from = open_client(make_config(dir.store(), sqlite_key));
  std::vector<std::string> tokens;
  for (int i = 0; i < 20; ++i) {
    tokens.push_back(random_token());
    connect_ok(from.get(), ("acct-" + std::to_string(i)).c_str(), "twilio", twilio_payload(tokens.back()));
  }
  REQUIRE(refold_mark_reauth(from.get(), "acct-3", "twilio", "rotated_by_admin") == REFOLD_OK);

  Store pg;  // a database of its own, another master key
  ClientPtr to = open_client(pg.config());
  char* out = nullptr;
  REQUIRE_MESSAGE(refold_copy_connections(from.get(), to.get(), &out) == REFOLD_OK, last_error());
  const json::object report = parse(take(out)).as_object();
  CHECK(report.at("copied").as_int64() == 20);
  CHECK(report.at("reauth_required").as_int64() == 1);
  for (int i = 0; i < 20; ++i) {
    if (i == 3) continue;
    CHECK(field_is(credential_fields(to.get(), ("acct-" + std::to_string(i)).c_str(), "twilio"), "auth_token",
                   tokens[static_cast<std::size_t>(i)]));
  }
  int rc = 0;
  get_credentials(to.get(), "acct-3", "twilio", rc);
  CHECK(rc == REFOLD_EREAUTH);
  // Sealed for PostgreSQL's store: no token in clear there.
  for (const auto& t : tokens)
    CHECK(pg_exec(pg.path, "SELECT count(*) FROM refold.connections WHERE position(convert_to('" + t +
                               "', 'UTF8') in ciphertext) > 0") == "0");
}

TEST_CASE("postgresql: a statement that waits too long on a lock fails with REFOLD_ESTORE, and the next works") {
  Store s;
  ClientPtr c = open_client(pg_config(s.path, s.key, {{"postgresql_statement_timeout_ms", 300}}));
  connect_ok(c.get(), "acct", "twilio", twilio_payload(random_token()));
  // Another session holds the schema's write lock (as a stuck writer would).
  PGconn* other = PQconnectdb(s.path.c_str());
  REQUIRE(PQstatus(other) == CONNECTION_OK);
  PGresult* r = PQexec(other, "SELECT pg_advisory_lock(1380338756, hashtext('refold'))");
  REQUIRE(PQresultStatus(r) == PGRES_TUPLES_OK);
  PQclear(r);
  CHECK(refold_connect(c.get(), "acct", "twilio", twilio_payload(random_token()).c_str()) == REFOLD_ESTORE);
  const std::string e = last_error();
  CHECK(contains(e, "PostgreSQL store"));
  CHECK_FALSE(contains(e, password_of(s.path)));
  // Reads take no such lock.
  CHECK(list_connections(c.get(), nullptr).size() == 1);
  PQfinish(other);  // the lock goes with its session
  const std::string token = random_token();
  connect_ok(c.get(), "acct", "twilio", twilio_payload(token));
  CHECK(field_is(credential_fields(c.get(), "acct", "twilio"), "auth_token", token));
}

TEST_CASE("postgresql: instances starting together on an older store migrate it once") {
  Store s;
  const std::string token = random_token();
  connect_ok(open_client(s.config()).get(), "acct", "twilio", twilio_payload(token));
  // Back to schema version 1: no event log, no notifications.
  pg_exec(s.path,
          "SET search_path TO refold; DROP TABLE events, event_consumers, event_log;"
          "UPDATE schema_version SET version = 1");
  constexpr int kInstances = 6;
  std::vector<int> codes(kInstances, -1);
  std::vector<std::thread> threads;
  for (int i = 0; i < kInstances; ++i)
    threads.emplace_back([&, i] {
      refold_client* c = nullptr;
      codes[static_cast<std::size_t>(i)] = refold_client_open(&c, s.config().c_str());
      refold_client_free(c);
    });
  for (auto& t : threads) t.join();
  for (int rc : codes) CHECK(rc == REFOLD_OK);
  CHECK(pg_exec(s.path, "SELECT max(version) FROM refold.schema_version") == "3");
  CHECK(pg_exec(s.path, "SELECT count(*) FROM refold.schema_version") == "1");
  ClientPtr c = open_client(s.config());
  CHECK(field_is(credential_fields(c.get(), "acct", "twilio"), "auth_token", token));
  connect_ok(c.get(), "next", "twilio", twilio_payload(random_token()));
  char* out = nullptr;
  REQUIRE(refold_read_events(c.get(), "relay", 10, &out) == REFOLD_OK);
  const json::object page = parse(take(out)).as_object();
  REQUIRE(page.at("events").as_array().size() == 1);  // the log starts at the migration
  CHECK(page.at("events").as_array()[0].at("account") == "next");
}

TEST_CASE("postgresql: TLS as libpq does it: a verified server is used, an unknown one refused") {
  TempDir pki_dir, other_dir;
  const TestPki pki = make_test_pki(pki_dir.path());
  const TestPki other = make_test_pki(other_dir.path());
  PrivateServer server(pki_dir.path());
  const std::string uri = server.uri();
  const std::string key = random_hex_key();
  const std::string verified = uri + "?sslmode=verify-full&sslrootcert=" + pki.ca;
  ClientPtr c = open_client(pg_config(verified, key));
  connect_ok(c.get(), "acct", "twilio", twilio_payload(random_token()));
  // Every session refold opened is encrypted.
  CHECK(pg_exec(verified,
                "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)"
                " WHERE a.application_name = 'refold' AND s.ssl") != "0");
  CHECK(pg_exec(verified,
                "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)"
                " WHERE a.application_name = 'refold' AND NOT s.ssl") == "0");

  // A server whose certificate another CA signed is not trusted.
  ClientPtr refused;
  CHECK(try_open(pg_config(uri + "?sslmode=verify-full&sslrootcert=" + other.ca, key), refused) == REFOLD_ESTORE);
  const std::string e = last_error();
  CHECK(contains(e, "cannot connect"));
  CHECK(contains(e, "certificate"));
  CHECK_FALSE(contains(e, password_of(uri)));
}
