package refold

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	neturl "net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// events records what the handler received.
type events struct {
	mu   sync.Mutex
	list []Event
}

func (e *events) handler(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
}

func (e *events) all() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Event(nil), e.list...)
}

func TestVersionAndErrorCodes(t *testing.T) {
	if v := Version(); v == "" || strings.Count(v, ".") != 2 {
		t.Errorf("Version() = %q", v)
	}
	if CodeReauthRequired.String() == "" || CodeReauthRequired.String() == Code(-999).String() {
		t.Errorf("no text for CodeReauthRequired")
	}
	_, err := OpenJSON(`{"no_such_key": 1}`)
	if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound) {
		t.Fatalf("open with an unknown key: %v", err)
	}
	var rerr *Error
	if !errors.As(err, &rerr) || rerr.Code != CodeInvalid || !strings.Contains(rerr.Message, "no_such_key") {
		t.Errorf("the error names the key: %#v", err)
	}
	if !strings.HasPrefix(err.Error(), "refold: ") {
		t.Errorf("Error() = %q", err.Error())
	}
	if errors.Is(ErrInvalid, &Error{Code: CodeInvalid, Message: "x"}) {
		t.Errorf("a detailed error is not a sentinel")
	}
}

func TestKeyBasedConnectWithBadAndGoodPayloads(t *testing.T) {
	s := startSandbox(t)
	c := s.open(t)
	var rec events
	if err := c.SetEventHandler(rec.handler); err != nil {
		t.Fatal(err)
	}

	tooShort := "sk_sandbox_short"
	rejected := "sk_live_0123456789abcdefghijklmnop"
	cases := []struct {
		name   string
		app    string
		fields map[string]any
		want   error
		names  string
	}{
		{"missing field", "sandbox-keys", map[string]any{}, ErrInvalid, "api_key"},
		{"unknown field", "sandbox-keys", map[string]any{"api_key": goodKey, "extra": 1}, ErrInvalid, "extra"},
		{"too short", "sandbox-keys", map[string]any{"api_key": tooShort}, ErrInvalid, "api_key"},
		{"rejected by the provider", "sandbox-keys", map[string]any{"api_key": rejected}, ErrAuth, ""},
		{"unknown app", "no-such-app", map[string]any{"api_key": goodKey}, ErrNotFound, "no-such-app"},
		{"empty account", "sandbox-keys", map[string]any{"api_key": goodKey}, ErrInvalid, "account"},
	}
	for _, tc := range cases {
		account := "acct"
		if tc.name == "empty account" {
			account = ""
		}
		err := c.ConnectKeyBased(account, tc.app, tc.fields)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.names) {
			t.Errorf("%s: the message does not name %q", tc.name, tc.names)
		}
		if strings.Contains(msg, tooShort) || strings.Contains(msg, rejected) || strings.Contains(msg, goodKey) {
			t.Errorf("%s: the message holds the key", tc.name)
		}
	}
	if n := len(rec.all()); n != 0 {
		t.Fatalf("failed connects emitted %d events", n)
	}

	if err := c.ConnectKeyBased("acct", "sandbox-keys", map[string]any{"api_key": goodKey}); err != nil {
		t.Fatalf("connect: %v", err)
	}
	creds, err := c.Credentials("acct", "sandbox-keys")
	if err != nil {
		t.Fatal(err)
	}
	if creds.AuthType != AuthKeyBased || creds.Fields["api_key"] != goodKey {
		t.Errorf("credentials: %v", creds)
	}
	for _, text := range []string{fmt.Sprint(creds), fmt.Sprintf("%v %+v %#v", *creds, *creds, *creds)} {
		if strings.Contains(text, goodKey) {
			t.Errorf("printing credentials shows the key")
		}
	}

	conns, err := c.ListConnections("acct")
	if err != nil || len(conns) != 1 {
		t.Fatalf("connections: %v %v", conns, err)
	}
	conn := conns[0]
	if conn.App != "sandbox-keys" || conn.AuthType != AuthKeyBased || conn.Status != "active" ||
		conn.Reason != "" || conn.CreatedAt.IsZero() || time.Since(conn.CreatedAt) > time.Minute {
		t.Errorf("connection: %+v", conn)
	}
	apps, err := c.ListApps("acct")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range apps {
		if a.Slug != "sandbox-keys" {
			continue
		}
		found = true
		if !a.Connected || a.ReauthRequired || len(a.ConnectedAccounts) != 1 ||
			a.ConnectedAccounts[0].Status != "active" || len(a.AuthTypeOptions[AuthKeyBased]) != 1 {
			t.Errorf("app: %+v", a)
		}
		f := a.AuthTypeOptions[AuthKeyBased][0]
		if f.Name != "api_key" || !f.Secret || f.MinLength == nil || *f.MinLength != 24 {
			t.Errorf("field: %+v", f)
		}
	}
	if !found {
		t.Errorf("sandbox-keys is not listed")
	}
	for _, a := range apps {
		switch a.Slug {
		case "hubspot":
			if a.Category != "crm" || !strings.HasPrefix(a.DocsURL, "https://") || len(a.ConnectionFields) != 0 {
				t.Errorf("hubspot: %+v", a)
			}
		case "zendesk":
			if len(a.ConnectionFields) == 0 || a.ConnectionFields[0].Name != "subdomain" {
				t.Errorf("zendesk's connection fields: %+v", a.ConnectionFields)
			}
		case "okta":
			// Its key-based domain is a host input within Okta's domains.
			fields := a.AuthTypeOptions[AuthKeyBased]
			if len(fields) == 0 || fields[0].Name != "domain" ||
				strings.Join(fields[0].HostSuffixes, " ") != "okta.com oktapreview.com okta-emea.com" {
				t.Errorf("okta's key-based fields: %+v", fields)
			}
		}
	}
	if all, err := c.ListApps(""); err != nil || len(all) != len(apps) || all[0].Connected {
		t.Errorf("listing without an account: %v", err)
	}

	if err := c.Disconnect("acct", "sandbox-keys"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Credentials("acct", "sandbox-keys"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after disconnect: %v", err)
	}
	got := rec.all()
	if len(got) != 2 || got[0].Type != EventCreated || got[1].Type != EventDeleted ||
		got[1].Reason != "disconnected" || got[0].App != "sandbox-keys" || got[0].At.IsZero() {
		t.Errorf("events: %+v", got)
	}
}

func TestOAuthConnectThroughTheURLOpener(t *testing.T) {
	s := startSandbox(t)
	c := s.open(t)
	var rec events
	if err := c.SetEventHandler(rec.handler); err != nil {
		t.Fatal(err)
	}
	var b browser
	if err := c.SetURLOpener(b.open); err != nil {
		t.Fatal(err)
	}
	if err := c.ConnectOAuth("acct", "sandbox"); err != nil {
		t.Fatalf("connect: %v", err)
	}
	b.wait(t)

	creds, err := c.Credentials("acct", "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	if creds.AuthType != AuthOAuth2 || creds.TokenType != "Bearer" || creds.AccessToken == "" ||
		creds.ExpiresAt == nil || time.Until(*creds.ExpiresAt) < 30*time.Minute ||
		strings.Join(creds.Scopes, " ") != "profile read" {
		t.Errorf("credentials: %v", creds)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", *creds, *creds, *creds), creds.AccessToken) {
		t.Errorf("printing credentials shows the token")
	}
	if status := s.apiMe(t, creds.AccessToken); status != 200 {
		t.Errorf("the token does not work at the sandbox: %d", status)
	}
	got := rec.all()
	if len(got) != 1 || got[0].Type != EventCreated || got[0].AuthType != AuthOAuth2 {
		t.Errorf("events: %+v", got)
	}

	// An opener's error cancels the flow and comes back as the cause.
	refused := errors.New("no browser here")
	if err := c.SetURLOpener(func(string) error { return refused }); err != nil {
		t.Fatal(err)
	}
	err = c.ConnectOAuth("other", "sandbox")
	if !errors.Is(err, ErrCancelled) || !errors.Is(err, refused) {
		t.Errorf("a refusing opener: %v", err)
	}
	// With options: the scopes asked for; a redirect URI is refused.
	if err := c.SetURLOpener(b.open); err != nil {
		t.Fatal(err)
	}
	if err := c.ConnectOAuthWith("third", "sandbox", &OAuthOptions{RedirectURI: "http://127.0.0.1:9/cb"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a redirect URI with the interactive flow: %v", err)
	}
	if err := c.ConnectOAuthWith("third", "sandbox", &OAuthOptions{Scopes: []string{"read"}}); err != nil {
		t.Fatalf("connect with options: %v", err)
	}
	b.wait(t)
	third, err := c.Credentials("third", "sandbox")
	if err != nil || strings.Join(third.Scopes, " ") != "read" {
		t.Errorf("connected with options: %v %v", third, err)
	}
	if err := c.SetURLOpener(nil); err != nil {
		t.Errorf("restoring the default opener: %v", err)
	}
	if err := c.Disconnect("acct", "sandbox"); err != nil {
		t.Fatal(err)
	}
	if status := s.apiMe(t, creds.AccessToken); status != 401 {
		t.Errorf("disconnect did not revoke the token: %d", status)
	}
	got = rec.all()
	if last := got[len(got)-1]; last.Type != EventDeleted || last.Revoked == nil || !*last.Revoked {
		t.Errorf("the deletion event does not say the tokens were revoked: %+v", last)
	}
}

func TestOAuthBeginAndComplete(t *testing.T) {
	s := startSandbox(t)
	c := s.open(t)
	url, err := c.BeginOAuth("acct", "sandbox", &OAuthOptions{RedirectURI: "http://127.0.0.1:9/callback"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, s.BaseURL+"/oauth/authorize?") || strings.Contains(url, testClientSecret) {
		t.Fatalf("authorize URL does not start at the sandbox")
	}
	noFollow := &http.Client{Transport: &http.Transport{Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	callback := resp.Header.Get("Location")
	if resp.StatusCode != 302 || !strings.HasPrefix(callback, "http://127.0.0.1:9/callback?") {
		t.Fatalf("the sandbox answered %d", resp.StatusCode)
	}
	res, err := c.CompleteOAuth(callback)
	if err != nil {
		t.Fatal(err)
	}
	if *res != (OAuthResult{Account: "acct", App: "sandbox", AuthType: AuthOAuth2, Status: "active"}) {
		t.Errorf("result: %+v", res)
	}
	if _, err := c.CompleteOAuth(callback); !errors.Is(err, ErrState) {
		t.Errorf("a replayed callback: %v", err)
	}
	if _, err := c.BeginOAuth("acct", "sandbox-keys", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("begin on a key-based app: %v", err)
	}
}

// The options' JSON is what refold_oauth_begin reads: members only when
// set, and a customer's client as {"client_id", "client_secret"}.
func TestOAuthOptionsJSON(t *testing.T) {
	for _, c := range []struct {
		opts OAuthOptions
		want string
	}{
		{OAuthOptions{}, `{}`},
		{OAuthOptions{Scopes: []string{"read"}, Client: &CustomerClient{ClientID: "id", ClientSecret: "s3"}},
			`{"scopes":["read"],"client":{"client_id":"id","client_secret":"s3"}}`},
		// An empty secret is sent, so the library names it as missing.
		{OAuthOptions{Client: &CustomerClient{ClientID: "id"}}, `{"client":{"client_id":"id","client_secret":""}}`},
	} {
		got, err := json.Marshal(c.opts)
		if err != nil || string(got) != c.want {
			t.Errorf("%s: got %s, %v", c.want, got, err)
		}
	}
}

// Credentials read from the library's JSON: a second (user) token only
// when the credentials carry one, and printing shows neither token.
func TestCredentialsJSON(t *testing.T) {
	var bot Credentials
	if err := decodeJSON([]byte(`{"auth_type":"oauth2","access_token":"xoxb-bot-token","token_type":"Bearer",`+
		`"expires_at":null,"scopes":["chat:write"]}`), &bot); err != nil {
		t.Fatal(err)
	}
	if bot.User != nil || bot.AccessToken != "xoxb-bot-token" || bot.ExpiresAt != nil {
		t.Errorf("without a user token: %#v", bot.User)
	}

	var both Credentials
	if err := decodeJSON([]byte(`{"auth_type":"oauth2","access_token":"xoxb-bot-token","token_type":"Bearer",`+
		`"expires_at":"2030-01-02T03:04:05.000Z","scopes":["chat:write"],"user":{"access_token":"xoxp-user-token",`+
		`"token_type":"Bearer","expires_at":"2030-01-02T04:04:05.000Z","scopes":["search:read","users:read"],"id":"U024BE7LH"}}`),
		&both); err != nil {
		t.Fatal(err)
	}
	u := both.User
	if u == nil {
		t.Fatal("the user token is not read")
	}
	if u.AccessToken != "xoxp-user-token" || u.TokenType != "Bearer" || u.ID != "U024BE7LH" ||
		strings.Join(u.Scopes, " ") != "search:read users:read" || u.ExpiresAt == nil ||
		!u.ExpiresAt.Equal(time.Date(2030, 1, 2, 4, 4, 5, 0, time.UTC)) {
		t.Errorf("user token: %v", u)
	}
	printed := fmt.Sprintf("%v %+v %#v %v %+v %#v", both, both, both, u, *u, u)
	if strings.Contains(printed, "xoxb-bot-token") || strings.Contains(printed, "xoxp-user-token") ||
		!strings.Contains(printed, "U024BE7LH") {
		t.Errorf("printing shows a token, or not the user: %s", printed)
	}

	// No expiry and no id: both stay empty.
	var noExpiry Credentials
	if err := decodeJSON([]byte(`{"auth_type":"oauth2","access_token":"a","token_type":"Bearer","expires_at":null,`+
		`"scopes":[],"user":{"access_token":"b","token_type":"Bearer","expires_at":null,"scopes":[]}}`), &noExpiry); err != nil {
		t.Fatal(err)
	}
	if noExpiry.User == nil || noExpiry.User.ExpiresAt != nil || noExpiry.User.ID != "" {
		t.Errorf("a user token without expiry or id: %v", noExpiry.User)
	}
	if text, _ := json.Marshal(bot); strings.Contains(string(text), `"user"`) {
		t.Errorf("credentials without a user token marshal one: %s", text)
	}
}

// The connection's inputs, metadata and API base, when the credentials
// carry them: read as strings, and shown when printed (they are not secret).
func TestCredentialsMetadataJSON(t *testing.T) {
	var plain Credentials
	if err := decodeJSON([]byte(`{"auth_type":"oauth2","access_token":"at-plain","token_type":"Bearer",`+
		`"expires_at":null,"scopes":["read"]}`), &plain); err != nil {
		t.Fatal(err)
	}
	if plain.Connection != nil || plain.Metadata != nil || plain.APIBaseURL != "" {
		t.Errorf("without them: %#v %#v %q", plain.Connection, plain.Metadata, plain.APIBaseURL)
	}
	if text, _ := json.Marshal(plain); strings.Contains(string(text), `"metadata"`) ||
		strings.Contains(string(text), `"connection"`) || strings.Contains(string(text), `"api_base_url"`) {
		t.Errorf("credentials without them marshal them: %s", text)
	}

	var all Credentials
	if err := decodeJSON([]byte(`{"auth_type":"oauth2","access_token":"at-sf","token_type":"Bearer",`+
		`"expires_at":null,"scopes":["api"],"connection":{"subdomain":"acme"},`+
		`"metadata":{"instance_url":"https://na1.example","realmId":"9130"},`+
		`"api_base_url":"https://na1.example/services"}`), &all); err != nil {
		t.Fatal(err)
	}
	if len(all.Connection) != 1 || all.Connection["subdomain"] != "acme" {
		t.Errorf("connection: %#v", all.Connection)
	}
	if len(all.Metadata) != 2 || all.Metadata["instance_url"] != "https://na1.example" || all.Metadata["realmId"] != "9130" {
		t.Errorf("metadata: %#v", all.Metadata)
	}
	if all.APIBaseURL != "https://na1.example/services" {
		t.Errorf("api base: %q", all.APIBaseURL)
	}
	printed := fmt.Sprintf("%v %#v", all, all)
	if strings.Contains(printed, "at-sf") || !strings.Contains(printed, "https://na1.example/services") ||
		!strings.Contains(printed, `realmId="9130"`) || !strings.Contains(printed, `subdomain="acme"`) {
		t.Errorf("printing shows the token, or not the metadata: %s", printed)
	}

	var cc Credentials
	if err := decodeJSON([]byte(`{"auth_type":"oauth2_cc","access_token":"a","token_type":"Bearer",`+
		`"expires_at":null,"scopes":[],"metadata":{"tenant":"t1"},"api_base_url":"https://t1.example"}`), &cc); err != nil {
		t.Fatal(err)
	}
	if cc.Metadata["tenant"] != "t1" || cc.APIBaseURL != "https://t1.example" || cc.Connection != nil {
		t.Errorf("client credentials: %v", cc)
	}
}

// An app that keeps instance_url from the token response (as Salesforce
// does) gets it in the credentials' metadata after a connect, with the API
// base built from it, and the connection input it was made with.
func TestCredentialsMetadata(t *testing.T) {
	s := startSandbox(t)
	s.setConfig(t, map[string]any{
		"token_response_extra": map[string]any{"instance_url": "https://na1.example"},
		"refresh_token_ttl":    86400,
	})
	c := s.open(t)
	var b browser
	if err := c.SetURLOpener(b.open); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if err := c.ConnectOAuthWith("acct", "sandbox-meta", &OAuthOptions{Connection: map[string]any{"team": "acme"}}); err != nil {
		t.Fatalf("connect: %v", err)
	}
	b.wait(t)
	creds, err := c.Credentials("acct", "sandbox-meta")
	if err != nil {
		t.Fatal(err)
	}
	if len(creds.Metadata) != 1 || creds.Metadata["instance_url"] != "https://na1.example" {
		t.Errorf("metadata: %#v", creds.Metadata)
	}
	if creds.APIBaseURL != "https://na1.example/services" {
		t.Errorf("api base: %q", creds.APIBaseURL)
	}
	if len(creds.Connection) != 1 || creds.Connection["team"] != "acme" {
		t.Errorf("connection: %#v", creds.Connection)
	}
	if status := s.apiMe(t, creds.AccessToken); status != 200 {
		t.Errorf("the token does not work at the sandbox: %d", status)
	}

	// The sandbox app keeps none of them.
	connectSandbox(t, c, "acct")
	plain, err := c.Credentials("acct", "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	if plain.Metadata != nil || plain.APIBaseURL != "" || plain.Connection != nil {
		t.Errorf("an app without metadata: %v", plain)
	}

	// The listing shows the same, and when the refresh token lapses.
	conns, err := c.ListConnections("acct")
	if err != nil {
		t.Fatal(err)
	}
	byApp := map[string]Connection{}
	for _, conn := range conns {
		byApp[conn.App] = conn
	}
	meta, ok := byApp["sandbox-meta"]
	if !ok || len(byApp) != 2 {
		t.Fatalf("listing: %+v", conns)
	}
	if meta.Metadata["instance_url"] != "https://na1.example" || len(meta.Metadata) != 1 ||
		meta.Connection["team"] != "acme" || len(meta.Connection) != 1 ||
		meta.APIBaseURL != "https://na1.example/services" {
		t.Errorf("listed sandbox-meta: %+v", meta)
	}
	lapse := meta.RefreshTokenExpiresAt
	if lapse == nil || lapse.Before(before.Add(86400*time.Second-time.Minute)) ||
		lapse.After(time.Now().Add(86400*time.Second+time.Minute)) {
		t.Errorf("the refresh token lapses at %v, not in a day", lapse)
	}
	if p := byApp["sandbox"]; p.Metadata != nil || p.Connection != nil || p.APIBaseURL != "" {
		t.Errorf("listed sandbox: %+v", p)
	}
}

// A client-credentials app (oauth2_cc) is connected with the customer's
// client id and secret, with no user: its credentials carry the token and
// the client, say so in AuthType, and never hold the secret.
func TestClientCredentials(t *testing.T) {
	s := startSandbox(t)
	c := s.open(t)
	var rec events
	if err := c.SetEventHandler(rec.handler); err != nil {
		t.Fatal(err)
	}
	client := map[string]any{"client_id": testClientID, "client_secret": testClientSecret}
	if err := c.ConnectKeyBased("acct", "sandbox-cc", client); err != nil {
		t.Fatalf("connect: %v", err)
	}
	creds, err := c.Credentials("acct", "sandbox-cc")
	if err != nil {
		t.Fatal(err)
	}
	if creds.AuthType != AuthOAuth2CC || creds.TokenType != "Bearer" || creds.AccessToken == "" ||
		creds.ExpiresAt == nil || strings.Join(creds.Scopes, " ") != "read" || creds.ClientID != testClientID ||
		creds.User != nil {
		t.Errorf("credentials: %v", creds)
	}
	asJSON, err := json.Marshal(creds)
	if err != nil {
		t.Fatal(err)
	}
	printed := fmt.Sprintf("%v %+v %#v", *creds, *creds, *creds)
	if strings.Contains(printed, creds.AccessToken) || strings.Contains(printed+string(asJSON), testClientSecret) {
		t.Errorf("printing shows the token, or the credentials hold the client secret")
	}
	if !strings.HasPrefix(printed, AuthOAuth2CC+" credentials") {
		t.Errorf("printing does not name the auth type: %s", printed)
	}
	if status := s.apiMe(t, creds.AccessToken); status != 200 {
		t.Errorf("the token does not work at the sandbox: %d", status)
	}
	if got := rec.all(); len(got) != 1 || got[0].Type != EventCreated || got[0].AuthType != AuthOAuth2CC {
		t.Errorf("events: %+v", got)
	}
	if err := c.Disconnect("acct", "sandbox-cc"); err != nil {
		t.Fatal(err)
	}
	if status := s.apiMe(t, creds.AccessToken); status != 401 {
		t.Errorf("disconnect did not revoke the token: %d", status)
	}
}

// A customer's own OAuth client in the options makes the connection
// instead of the config's registration: the sandbox's grants are that
// client's, the credentials name it, and its secret shows in no URL,
// credentials or printout.
func TestOAuthWithTheCustomersOwnClient(t *testing.T) {
	s := startSandbox(t)
	c := s.open(t)
	own := &CustomerClient{ClientID: ownClientID, ClientSecret: ownClientSecret}
	opts := &OAuthOptions{RedirectURI: "http://127.0.0.1:9/callback", Client: own}
	printed := fmt.Sprintf("%v %+v %#v %v %#v", opts, *opts, opts, *own, own)
	if strings.Contains(printed, ownClientSecret) || !strings.Contains(printed, ownClientID) {
		t.Errorf("printing the options shows the secret, or not the client")
	}

	authURL, err := c.BeginOAuth("acct", "sandbox", opts)
	if err != nil {
		t.Fatal(err)
	}
	u, err := neturl.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	if id := u.Query().Get("client_id"); id != ownClientID || strings.Contains(authURL, ownClientSecret) {
		t.Fatalf("the authorization URL is for client %q, or holds its secret", id)
	}
	if _, err := c.CompleteOAuth(s.approve(t, authURL)); err != nil {
		t.Fatal(err)
	}
	creds, err := c.Credentials("acct", "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	if creds.ClientID != ownClientID {
		t.Errorf("the credentials name client %q", creds.ClientID)
	}
	asJSON, err := json.Marshal(creds)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(asJSON)+fmt.Sprintf("%v %+v %#v", *creds, *creds, *creds), ownClientSecret) {
		t.Errorf("the credentials hold the client secret")
	}
	// The code went to the sandbox as the customer's client: its grant.
	if g := s.grants(t); len(g) != 1 || g[0].ClientID != ownClientID {
		t.Errorf("grants: %+v", g)
	}
	if status := s.apiMe(t, creds.AccessToken); status != 200 {
		t.Errorf("the token does not work at the sandbox: %d", status)
	}

	// The interactive flow takes the client too.
	var b browser
	if err := c.SetURLOpener(b.open); err != nil {
		t.Fatal(err)
	}
	if err := c.ConnectOAuthWith("other", "sandbox", &OAuthOptions{Client: own}); err != nil {
		t.Fatalf("connect with the customer's client: %v", err)
	}
	b.wait(t)
	if other, err := c.Credentials("other", "sandbox"); err != nil || other.ClientID != ownClientID {
		t.Errorf("connected with the customer's client: %v %v", other, err)
	}
	// A connection through the host's registration names no client.
	connectSandbox(t, c, "host")
	if host, err := c.Credentials("host", "sandbox"); err != nil || host.ClientID != "" {
		t.Errorf("connected with the host's registration: %v %v", host, err)
	}

	// A client without its secret is refused by name, before a browser opens.
	err = c.ConnectOAuthWith("fourth", "sandbox", &OAuthOptions{Client: &CustomerClient{ClientID: ownClientID}})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "client_secret") {
		t.Errorf("a client without a secret: %v", err)
	}

	// Disconnecting revokes through the customer's client.
	for _, account := range []string{"acct", "other"} {
		if err := c.Disconnect(account, "sandbox"); err != nil {
			t.Fatal(err)
		}
	}
	byClient := map[string][]bool{}
	for _, g := range s.grants(t) {
		byClient[g.ClientID] = append(byClient[g.ClientID], g.Revoked)
	}
	if fmt.Sprint(byClient[ownClientID]) != "[true true]" || fmt.Sprint(byClient[testClientID]) != "[false]" {
		t.Errorf("revoked grants by client: %v", byClient)
	}
}

func TestAPanickingHandlerNeverCrossesIntoC(t *testing.T) {
	s := startSandbox(t)
	c := s.open(t)
	before := liveHandles.Load()
	type boom struct{ n int }
	if err := c.SetEventHandler(func(ev Event) {
		if ev.Type == EventCreated {
			panic(boom{1})
		}
	}); err != nil {
		t.Fatal(err)
	}
	// The panic comes out of the call that caused the event, after the
	// change is committed.
	func() {
		defer func() {
			if r := recover(); r != (boom{1}) {
				t.Errorf("recovered %v", r)
			}
		}()
		_ = c.ConnectKeyBased("acct", "sandbox-keys", map[string]any{"api_key": goodKey})
		t.Errorf("no panic came out")
	}()
	if _, err := c.Credentials("acct", "sandbox-keys"); err != nil {
		t.Errorf("the connection was not committed: %v", err)
	}
	// Other events are delivered normally, and the error detail is right.
	if err := c.Disconnect("acct", "sandbox-keys"); err != nil {
		t.Error(err)
	}
	if err := c.ConnectKeyBased("acct", "no-such-app", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("after a panic: %v", err)
	}

	// A panicking opener cancels the flow; its panic comes out of ConnectOAuth.
	if err := c.SetURLOpener(func(string) error { panic("opener") }); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if r := recover(); r != "opener" {
				t.Errorf("recovered %v", r)
			}
		}()
		_ = c.ConnectOAuth("acct", "sandbox")
		t.Errorf("no panic came out")
	}()
	// The client still works, and releases both handlers on Close.
	if _, err := c.ListConnections(""); err != nil {
		t.Error(err)
	}
	c.Close()
	if n := liveHandles.Load() - before; n != 0 {
		t.Errorf("%d handles left after Close", n)
	}
}

func TestCallsFromManyGoroutines(t *testing.T) {
	s := startSandbox(t)
	c := s.open(t)
	var created atomic.Int64
	if err := c.SetEventHandler(func(ev Event) {
		if ev.Type == EventCreated {
			created.Add(1)
		}
	}); err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	failures := make(chan string, workers*rounds)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			account := fmt.Sprintf("acct-%d", w)
			if err := c.ConnectKeyBased(account, "sandbox-keys", map[string]any{"api_key": goodKey}); err != nil {
				failures <- "connect: " + err.Error()
				return
			}
			for i := 0; i < rounds; i++ {
				// Each goroutine's error detail is its own failure's, read on
				// the thread that failed.
				app := fmt.Sprintf("missing-%d-%d", w, i)
				err := c.ConnectKeyBased(account, app, map[string]any{"api_key": goodKey})
				var rerr *Error
				if !errors.As(err, &rerr) || rerr.Code != CodeNotFound || !strings.Contains(rerr.Message, app) {
					failures <- fmt.Sprintf("worker %d: wrong error for %s: %v", w, app, err)
				}
				creds, err := c.Credentials(account, "sandbox-keys")
				if err != nil || creds.Fields["api_key"] != goodKey {
					failures <- fmt.Sprintf("worker %d: credentials: %v", w, err)
				}
				if _, err := c.ListConnections(account); err != nil {
					failures <- err.Error()
				}
				runtime.Gosched()
			}
		}(w)
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
	if n := created.Load(); n != workers {
		t.Errorf("%d created events, want %d", n, workers)
	}
	all, err := c.ListConnections("")
	if err != nil || len(all) != workers {
		t.Errorf("%d connections: %v", len(all), err)
	}
}

func TestHandlersSurviveGarbageCollection(t *testing.T) {
	s := startSandbox(t)
	c := s.open(t)
	var calls atomic.Int64
	// The handler and its closure are referenced only through the library.
	func() {
		counter := &calls
		if err := c.SetEventHandler(func(Event) { counter.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}()
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
	if err := c.ConnectKeyBased("acct", "sandbox-keys", map[string]any{"api_key": goodKey}); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 {
		t.Errorf("the handler ran %d times after GC", calls.Load())
	}
}

func TestCloseReleasesTheClientAndItsHandlers(t *testing.T) {
	s := startSandbox(t)
	before := liveHandles.Load()
	c, err := Open(s.config(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetEventHandler(func(Event) {}); err != nil {
		t.Fatal(err)
	}
	// Replacing a handler releases the old one.
	if err := c.SetEventHandler(func(Event) {}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetURLOpener(func(string) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if n := liveHandles.Load() - before; n != 2 {
		t.Errorf("%d handles held, want 2", n)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if n := liveHandles.Load() - before; n != 0 {
		t.Errorf("%d handles left after Close", n)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := c.ListApps(""); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}

	// A client nobody closes is released by its finalizer.
	func() {
		c, err := Open(s.config(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.SetEventHandler(func(Event) {}); err != nil {
			t.Fatal(err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for liveHandles.Load() != before && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if n := liveHandles.Load() - before; n != 0 {
		t.Errorf("the finalizer did not release the client: %d handles left", n)
	}
}

func TestArgumentsWithNULBytesAreRefused(t *testing.T) {
	s := startSandbox(t)
	c := s.open(t)
	if err := c.Disconnect("a\x00b", "sandbox"); !errors.Is(err, ErrInvalid) {
		t.Errorf("NUL in an account: %v", err)
	}
}

func TestRotateDataKey(t *testing.T) {
	s := startSandbox(t)
	c, err := Open(s.config(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, acct := range []string{"a1", "a2", "a3"} {
		if err := c.ConnectKeyBased(acct, "sandbox-keys", map[string]any{"api_key": goodKey}); err != nil {
			t.Fatal(err)
		}
	}
	before, err := c.DataKeyStatus()
	if err != nil {
		t.Fatal(err)
	}
	if before.Rotating || len(before.Keys) != 1 || before.Keys[0].Connections != 3 || before.Keys[0].State != "current" {
		t.Fatalf("before: %+v", before)
	}
	if err := c.RotateDataKey(); err != nil {
		t.Fatal(err)
	}
	after, err := c.DataKeyStatus()
	if err != nil {
		t.Fatal(err)
	}
	if after.CurrentKey == before.CurrentKey || after.Rotating || after.RecordsToReseal != 0 ||
		len(after.Keys) != 1 || after.Keys[0].ID != after.CurrentKey || after.Keys[0].Connections != 3 ||
		after.Keys[0].CreatedAt.IsZero() {
		t.Errorf("after: %+v", after)
	}
	for _, acct := range []string{"a1", "a2", "a3"} {
		if creds, err := c.Credentials(acct, "sandbox-keys"); err != nil || creds.Fields["api_key"] != goodKey {
			t.Errorf("reading %s after rotation: %v", acct, err)
		}
	}
}

func TestRotateMasterKey(t *testing.T) {
	s := startSandbox(t)
	cfg := s.config(t)
	c, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ConnectKeyBased("acct", "sandbox-keys", map[string]any{"api_key": goodKey}); err != nil {
		t.Fatal(err)
	}
	if err := c.RotateMasterKey("not a key"); !errors.Is(err, ErrInvalid) {
		t.Errorf("a malformed key: %v", err)
	}
	newKey := randomKey(t)
	if err := c.RotateMasterKey(newKey); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := Open(cfg); !errors.Is(err, ErrCrypto) {
		t.Errorf("the old key still opens the store: %v", err)
	}
	cfg.MasterKey = newKey
	c, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if creds, err := c.Credentials("acct", "sandbox-keys"); err != nil || creds.Fields["api_key"] != goodKey {
		t.Errorf("reading after rotation: %v", err)
	}
}

func TestAHandlerMayCallTheClient(t *testing.T) {
	s := startSandbox(t)
	c := s.open(t)
	var seen []string
	if err := c.SetEventHandler(func(ev Event) {
		conns, err := c.ListConnections(ev.Account)
		if err != nil {
			t.Errorf("from the handler: %v", err)
			return
		}
		seen = append(seen, fmt.Sprintf("%s:%d", ev.Type, len(conns)))
		// A failing call inside the handler does not disturb the outer
		// call's result or error detail.
		_ = c.Disconnect(ev.Account, "no-such-app")
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.ConnectKeyBased("acct", "sandbox-keys", map[string]any{"api_key": goodKey}); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteAccount("acct"); err != nil {
		t.Fatal(err)
	}
	if strings.Join(seen, " ") != "connection.created:1 connection.deleted:0" {
		t.Errorf("the handler saw %v", seen)
	}
	c.SetEventHandler(nil)
}

func TestAReauthEventReachesTheHandler(t *testing.T) {
	s := startSandbox(t)
	c := s.open(t)
	expired := make(chan Event, 4)
	var rec events
	if err := c.SetEventHandler(func(ev Event) {
		rec.handler(ev)
		if ev.Type == EventExpired {
			expired <- ev
		}
	}); err != nil {
		t.Fatal(err)
	}
	connectSandbox(t, c, "acct")

	// The provider told the host (say, by a webhook) that the app was
	// uninstalled.
	if err := c.MarkReauth("acct", "sandbox", "uninstalled"); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-expired:
		if ev.Account != "acct" || ev.App != "sandbox" || ev.Reason != "uninstalled" || ev.AuthType != AuthOAuth2 {
			t.Errorf("event: %+v", ev)
		}
	default:
		t.Fatal("no connection.expired event")
	}
	_, err := c.Credentials("acct", "sandbox")
	if !errors.Is(err, ErrReauthRequired) || errors.Is(err, ErrNotFound) {
		t.Fatalf("reading a connection that needs re-auth: %v", err)
	}
	conns, err := c.ListConnections("acct")
	if err != nil || len(conns) != 1 || conns[0].Status != "reauth_required" || conns[0].Reason != "uninstalled" {
		t.Errorf("listing: %+v %v", conns, err)
	}
	apps, err := c.ListApps("acct")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range apps {
		if a.Slug == "sandbox" && (!a.ReauthRequired || a.ConnectedAccounts[0].Status != "expired") {
			t.Errorf("app listing: %+v", a)
		}
	}
	// Marking again changes nothing and emits nothing.
	if err := c.MarkReauth("acct", "sandbox", ""); err != nil {
		t.Error(err)
	}
	if err := c.MarkReauth("acct", "sandbox", "not a word!"); !errors.Is(err, ErrInvalid) {
		t.Errorf("a bad reason: %v", err)
	}
	if err := c.MarkReauth("nobody", "sandbox", "revoked"); !errors.Is(err, ErrNotFound) {
		t.Errorf("no such connection: %v", err)
	}

	// Connecting again makes it usable.
	connectSandbox(t, c, "acct")
	if _, err := c.Credentials("acct", "sandbox"); err != nil {
		t.Errorf("after reconnecting: %v", err)
	}
	var kinds []string
	for _, ev := range rec.all() {
		kinds = append(kinds, ev.Type)
	}
	if strings.Join(kinds, " ") != "connection.created connection.expired connection.reauthenticated" {
		t.Errorf("events: %v", kinds)
	}
}

func TestReportUnauthorized(t *testing.T) {
	s := startSandbox(t)
	c := s.open(t)
	var rec events
	if err := c.SetEventHandler(rec.handler); err != nil {
		t.Fatal(err)
	}
	connectSandbox(t, c, "acct")
	before, err := c.Credentials("acct", "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	// A 401 with an OAuth token: refreshed once, read again and retry.
	if err := c.ReportUnauthorized("acct", "sandbox"); err != nil {
		t.Fatalf("report: %v", err)
	}
	after, err := c.Credentials("acct", "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	if after.AccessToken == before.AccessToken || s.apiMe(t, after.AccessToken) != 200 {
		t.Errorf("the token was not refreshed")
	}
	// A key-based connection has nothing to refresh: re-auth.
	if err := c.ConnectKeyBased("acct", "sandbox-keys", map[string]any{"api_key": goodKey}); err != nil {
		t.Fatal(err)
	}
	if err := c.ReportUnauthorized("acct", "sandbox-keys"); !errors.Is(err, ErrReauthRequired) {
		t.Errorf("a key-based 401: %v", err)
	}
	var kinds []string
	for _, ev := range rec.all() {
		kinds = append(kinds, ev.Type+":"+ev.App)
	}
	want := "connection.created:sandbox connection.refreshed:sandbox connection.created:sandbox-keys connection.expired:sandbox-keys"
	if strings.Join(kinds, " ") != want {
		t.Errorf("events: %v", kinds)
	}
}

func TestReportUnauthorizedToken(t *testing.T) {
	s := startSandbox(t)
	c := s.open(t)
	connectSandbox(t, c, "acct")
	first, err := c.Credentials("acct", "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ReportUnauthorizedToken("acct", "sandbox", first.AccessToken); err != nil {
		t.Fatalf("report: %v", err)
	}
	second, err := c.Credentials("acct", "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	if second.AccessToken == first.AccessToken {
		t.Fatal("the token was not refreshed")
	}
	// Late reports about the first token, from goroutines on any thread:
	// nothing happens, the refreshed token stays.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- c.ReportUnauthorizedToken("acct", "sandbox", first.AccessToken)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("a late report: %v", err)
		}
	}
	now, err := c.Credentials("acct", "sandbox")
	if err != nil || now.AccessToken != second.AccessToken {
		t.Fatalf("late reports changed the connection: %v", err)
	}
	// A 401 on the token of that forced refresh is final.
	if err := c.ReportUnauthorizedToken("acct", "sandbox", second.AccessToken); !errors.Is(err, ErrReauthRequired) {
		t.Errorf("a second 401: %v", err)
	}
	if err := c.ReportUnauthorizedToken("acct", "sandbox", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("an empty token: %v", err)
	}
}

func TestSetClock(t *testing.T) {
	s := startSandbox(t)
	c := s.open(t)
	connectSandbox(t, c, "acct")
	first, err := c.Credentials("acct", "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	var ticks atomic.Int64
	later := time.Now().Add(2 * time.Hour) // past the sandbox's one-hour tokens
	if err := c.SetClock(func() time.Time { ticks.Add(1); return later }); err != nil {
		t.Fatal(err)
	}
	second, err := c.Credentials("acct", "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	if ticks.Load() == 0 || second.AccessToken == first.AccessToken || !second.ExpiresAt.After(later) {
		t.Errorf("the client did not use the clock: %d readings", ticks.Load())
	}
	// A panicking clock falls back to the system clock for that reading; the
	// panic comes out of the call that read it.
	if err := c.SetClock(func() time.Time { panic("clock") }); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if r := recover(); r != "clock" {
				t.Errorf("recovered %v", r)
			}
		}()
		_, _ = c.Credentials("acct", "sandbox")
		t.Errorf("no panic came out")
	}()
	if err := c.SetClock(nil); err != nil {
		t.Error(err)
	}
	if _, err := c.Credentials("acct", "sandbox"); err != nil {
		t.Error(err)
	}
}

func TestEventsFromTheBackgroundRefresher(t *testing.T) {
	s := startSandbox(t)
	cfg := s.config(t)
	cfg.BackgroundRefresh = true
	c, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	connectSandbox(t, c, "acct")
	creds, err := c.Credentials("acct", "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	// The library's own thread calls the clock and the handler: Go code
	// called from a thread Go did not start. A panic there has no call to
	// come out of; it is reported and the program goes on.
	var now atomic.Int64
	now.Store(creds.ExpiresAt.Add(-2 * time.Minute).UnixMilli())
	if err := c.SetClock(func() time.Time { return time.UnixMilli(now.Load()) }); err != nil {
		t.Fatal(err)
	}
	var seen atomic.Int64
	refreshed := make(chan Event, 4)
	if err := c.SetEventHandler(func(ev Event) {
		if ev.Type != EventRefreshed {
			return
		}
		if seen.Add(1) == 1 {
			panic("a handler bug on the refresher's thread")
		}
		refreshed <- ev
	}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for seen.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if seen.Load() != 1 {
		t.Fatalf("no refresh event from the background refresher")
	}
	second, err := c.Credentials("acct", "sandbox")
	if err != nil || second.AccessToken == creds.AccessToken {
		t.Fatalf("the background refresher did not refresh: %v", err)
	}
	now.Store(second.ExpiresAt.Add(-2 * time.Minute).UnixMilli())
	select {
	case ev := <-refreshed:
		if ev.Account != "acct" || ev.App != "sandbox" {
			t.Errorf("event: %+v", ev)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no second refresh event")
	}
}

func TestListConnectionsPage(t *testing.T) {
	s := startSandbox(t)
	c := s.open(t)
	accounts := []string{"e", "c", "a", "d", "b"}
	for _, acct := range accounts {
		if err := c.ConnectKeyBased(acct, "sandbox-keys", map[string]any{"api_key": goodKey}); err != nil {
			t.Fatal(err)
		}
	}
	for _, acct := range []string{"b", "d"} {
		if err := c.MarkReauth(acct, "sandbox-keys", "revoked"); err != nil {
			t.Fatal(err)
		}
	}

	// Pages of two, each connection once, in order.
	var seen []string
	query := ConnectionQuery{Limit: 2}
	for pages := 1; ; pages++ {
		page, err := c.ListConnectionsPage(query)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Connections) > 2 || pages > 3 {
			t.Fatalf("page %d has %d connections", pages, len(page.Connections))
		}
		for _, conn := range page.Connections {
			seen = append(seen, conn.Account)
		}
		if page.NextCursor == "" {
			break
		}
		query.Cursor = page.NextCursor
	}
	if strings.Join(seen, ",") != "a,b,c,d,e" {
		t.Errorf("pages listed %v", seen)
	}

	page, err := c.ListConnectionsPage(ConnectionQuery{Status: "reauth_required", App: "sandbox-keys"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Connections) != 2 || page.Connections[0].Account != "b" || page.Connections[1].Account != "d" ||
		page.Connections[0].Reason != "revoked" || page.NextCursor != "" {
		t.Errorf("reauth_required: %+v", page)
	}
	if page, err := c.ListConnectionsPage(ConnectionQuery{}); err != nil || len(page.Connections) != 5 {
		t.Errorf("no filter: %d connections, %v", len(page.Connections), err)
	}
	if page, err := c.ListConnectionsPage(ConnectionQuery{Account: "nobody"}); err != nil ||
		page.Connections == nil || len(page.Connections) != 0 {
		t.Errorf("no match: %+v, %v", page, err)
	}

	first, err := c.ListConnectionsPage(ConnectionQuery{Limit: 1})
	if err != nil || first.NextCursor == "" {
		t.Fatalf("first page: %v", err)
	}
	tampered := []byte(first.NextCursor)
	tampered[len(tampered)/2] ^= 1
	for name, q := range map[string]ConnectionQuery{
		"limit":  {Limit: 1001},
		"status": {Status: "expired"},
		"app":    {App: "Not A Slug"},
		"cursor": {Cursor: string(tampered)},
		// Not quietly listed as the account "\ufffd".
		"account": {Account: "\xff"},
	} {
		_, err := c.ListConnectionsPage(q)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "'"+name+"'") {
			t.Errorf("bad %s: %v", name, err)
		}
	}
	if _, err := c.ListConnectionsPage(ConnectionQuery{Cursor: first.NextCursor, Status: "active"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a cursor of another query: %v", err)
	}
}

func TestImportConnection(t *testing.T) {
	s := startSandbox(t)
	c := s.open(t)
	var rec events
	if err := c.SetEventHandler(rec.handler); err != nil {
		t.Fatal(err)
	}
	const access, refresh = "imported-access-token-1234", "imported-refresh-token-5678"
	expires := time.Now().Add(time.Hour).UTC().Truncate(time.Second)

	// A bad import names the member and stores nothing.
	err := c.ImportConnection("acct", "sandbox", map[string]any{"refresh_token": refresh})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "access_token") ||
		strings.Contains(err.Error(), refresh) {
		t.Fatalf("an import without an access token: %v", err)
	}
	err = c.ImportConnection("acct", "sandbox", map[string]any{"access_token": access, "expires_at": "tomorrow"})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "expires_at") {
		t.Fatalf("an import with a bad expiry: %v", err)
	}
	if _, err := c.Credentials("acct", "sandbox"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a failed import stored something: %v", err)
	}

	err = c.ImportConnection("acct", "sandbox", map[string]any{
		"access_token": access, "refresh_token": refresh,
		"expires_at": expires.Format(time.RFC3339), "scopes": []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := c.Credentials("acct", "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	if creds.AuthType != AuthOAuth2 || creds.AccessToken != access || creds.ExpiresAt == nil ||
		!creds.ExpiresAt.Equal(expires) || len(creds.Scopes) != 1 || creds.Scopes[0] != "read" {
		t.Errorf("imported credentials: %v", creds)
	}
	got := rec.all()
	if len(got) != 1 || got[0].Type != EventCreated {
		t.Errorf("events: %+v", got)
	}
}

func TestReadAndAckEvents(t *testing.T) {
	c, err := Open(Config{Store: filepath.Join(t.TempDir(), "refold.db"), MasterKey: randomKey(t), EventRetention: "30d"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fields := map[string]any{"sid": twilioSID, "auth_token": "twilio-auth-token-0123456789abcdef"}
	for i := 0; i < 2; i++ {
		if err := c.ConnectKeyBased("acct", "twilio", fields); err != nil {
			t.Fatal(err)
		}
	}

	page, err := c.ReadEvents("relay", 100)
	if err != nil {
		t.Fatal(err)
	}
	if page.Missed || len(page.Events) != 2 {
		t.Fatalf("events: %+v", page)
	}
	first, second := page.Events[0], page.Events[1]
	if first.Type != EventCreated || second.Type != EventReauthenticated || first.Seq < 1 || second.Seq <= first.Seq {
		t.Errorf("events: %+v", page.Events)
	}
	if first.Account != "acct" || first.App != "twilio" || first.AuthType != AuthKeyBased || first.At.IsZero() ||
		first.Reason != "" || first.RetryAt != nil || first.Revoked != nil {
		t.Errorf("first event: %+v", first)
	}
	// Reading changes nothing; the cursor is the consumer's own.
	if again, err := c.ReadEvents("relay", 1); err != nil || len(again.Events) != 1 || again.Events[0].Seq != first.Seq {
		t.Errorf("read again, one at most: %+v, %v", again, err)
	}

	if err := c.AckEvents("relay", first.Seq); err != nil {
		t.Fatal(err)
	}
	page, err = c.ReadEvents("relay", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 || page.Events[0].Seq != second.Seq || page.Events[0].Type != EventReauthenticated {
		t.Errorf("after the ack: %+v", page)
	}
	if other, err := c.ReadEvents("audit", 100); err != nil || len(other.Events) != 2 {
		t.Errorf("another consumer: %+v, %v", other, err)
	}

	if err := c.AckEvents("relay", 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("ack of seq 0: %v", err)
	}
	for name, read := range map[string]func() error{
		"consumer": func() error { _, err := c.ReadEvents("", 100); return err },
		"max":      func() error { _, err := c.ReadEvents("relay", 0); return err },
	} {
		if err := read(); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), name) {
			t.Errorf("a bad %s: %v", name, err)
		}
	}
	if _, err := c.ReadEvents("relay", -1); !errors.Is(err, ErrInvalid) {
		t.Errorf("a negative max: %v", err)
	}
}

func TestCopyConnectionsTo(t *testing.T) {
	cfg := Config{Store: filepath.Join(t.TempDir(), "refold.db"), MasterKey: randomKey(t)}
	from, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer from.Close()
	const token = "twilio-auth-token-0123456789abcdef"
	for _, acct := range []string{"acct-1", "acct-2"} {
		fields := map[string]any{"sid": twilioSID, "auth_token": token + acct}
		if err := from.ConnectKeyBased(acct, "twilio", fields); err != nil {
			t.Fatal(err)
		}
	}
	// Another store under another master key.
	to, err := Open(Config{Store: filepath.Join(t.TempDir(), "refold.db"), MasterKey: randomKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer to.Close()
	var rec events
	if err := to.SetEventHandler(rec.handler); err != nil {
		t.Fatal(err)
	}

	report, err := from.CopyConnectionsTo(to)
	if err != nil {
		t.Fatal(err)
	}
	if report != (CopyReport{Copied: 2, ReauthRequired: 0}) {
		t.Errorf("report: %+v", report)
	}
	creds, err := to.Credentials("acct-2", "twilio")
	if err != nil {
		t.Fatal(err)
	}
	if creds.AuthType != AuthKeyBased || creds.Fields["auth_token"] != token+"acct-2" || creds.Fields["sid"] != twilioSID {
		t.Errorf("the copy does not hold the same auth_token: %v", creds)
	}
	if conns, err := to.ListConnections(""); err != nil || len(conns) != 2 {
		t.Errorf("the copy lists %d connections: %v", len(conns), err)
	}
	if got := rec.all(); len(got) != 2 || got[0].Type != EventCreated || got[1].Type != EventCreated {
		t.Errorf("events in the copy: %+v", got)
	}

	// Not onto the same client or store; not with a closed or missing client.
	if _, err := from.CopyConnectionsTo(from); !errors.Is(err, ErrInvalid) {
		t.Errorf("copying onto itself: %v", err)
	}
	same, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer same.Close()
	if _, err := from.CopyConnectionsTo(same); !errors.Is(err, ErrInvalid) {
		t.Errorf("copying onto another client of the same store: %v", err)
	}
	if _, err := from.CopyConnectionsTo(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("copying to nil: %v", err)
	}
	closed, err := Open(Config{Store: filepath.Join(t.TempDir(), "refold.db"), MasterKey: randomKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	if _, err := from.CopyConnectionsTo(closed); !errors.Is(err, ErrClosed) {
		t.Errorf("copying to a closed client: %v", err)
	}
	if _, err := closed.CopyConnectionsTo(to); !errors.Is(err, ErrClosed) {
		t.Errorf("copying from a closed client: %v", err)
	}
}

func TestCloseWaitsForACopyInProgress(t *testing.T) {
	from, err := Open(Config{Store: filepath.Join(t.TempDir(), "refold.db"), MasterKey: randomKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer from.Close()
	fields := map[string]any{"sid": twilioSID, "auth_token": "twilio-auth-token-0123456789abcdef"}
	if err := from.ConnectKeyBased("acct", "twilio", fields); err != nil {
		t.Fatal(err)
	}
	to, err := Open(Config{Store: filepath.Join(t.TempDir(), "refold.db"), MasterKey: randomKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	// to's handler holds the copy in progress until released.
	started, release := make(chan struct{}), make(chan struct{})
	if err := to.SetEventHandler(func(Event) { close(started); <-release }); err != nil {
		t.Fatal(err)
	}
	copied := make(chan error, 1)
	go func() {
		_, err := from.CopyConnectionsTo(to)
		copied <- err
	}()
	<-started
	closed := make(chan struct{})
	go func() {
		to.Close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Error("Close returned while a copy into the client was in progress")
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if err := <-copied; err != nil {
		t.Errorf("the copy: %v", err)
	}
	<-closed
	if _, err := from.CopyConnectionsTo(to); !errors.Is(err, ErrClosed) {
		t.Errorf("copying into a closed client: %v", err)
	}
}
