package refold

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

const (
	testClientID     = "go-test-client"
	testClientSecret = "go-test-secret-5e6f7a8b"
	goodKey          = "sk_sandbox_0123456789abcdefghij"    // the sandbox accepts sk_sandbox_ + 13 or more
	twilioSID        = "AC0123456789abcdef0123456789ABCDEF" // the built-in twilio app's pattern

	// A second client the sandbox knows and the config does not: a
	// customer's own, given in OAuthOptions.Client.
	ownClientID     = "go-customer-client"
	ownClientSecret = "go-customer-secret-9a0b1c2d"
)

// sandbox is a refold-devserver started for one test, with --auto-approve.
type sandbox struct {
	BaseURL string
}

// startSandbox runs the sandbox provider on a free port until the test ends.
// It is the build directory's refold-devserver: $REFOLD_DEVSERVER, else
// $REFOLD_BUILD_DIR/src/devserver/refold-devserver.
func startSandbox(t *testing.T) *sandbox {
	t.Helper()
	path := os.Getenv("REFOLD_DEVSERVER")
	if path == "" && os.Getenv("REFOLD_BUILD_DIR") != "" {
		path = filepath.Join(os.Getenv("REFOLD_BUILD_DIR"), "src", "devserver", "refold-devserver")
	}
	if path == "" {
		t.Fatal("set REFOLD_BUILD_DIR (or REFOLD_DEVSERVER) to find refold-devserver")
	}
	cmd := exec.Command(path, "--port", "0", "--auto-approve", "--client", testClientID+":"+testClientSecret,
		"--client", ownClientID+":"+ownClientSecret)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("cannot start the sandbox: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("the sandbox did not announce its port: %v", err)
	}
	var hello struct {
		BaseURL string `json:"base_url"`
	}
	if err := json.Unmarshal([]byte(line), &hello); err != nil || hello.BaseURL == "" {
		t.Fatalf("the sandbox's first line is not its address: %q", line)
	}
	return &sandbox{BaseURL: hello.BaseURL}
}

// apps is the catalog of the sandbox's four apps: "sandbox" (OAuth 2.0),
// "sandbox-keys" (key-based, verified at /keys/verify), "sandbox-cc"
// (client credentials, connected with a client the sandbox knows) and
// "sandbox-meta" (OAuth 2.0 with a connection input, keeping instance_url
// from the token response for its api_base_url, as Salesforce does; the
// sandbox sends it once told to with setConfig).
func (s *sandbox) apps() []any {
	return []any{
		map[string]any{
			"slug": "sandbox", "name": "Sandbox", "auth_types": []string{"oauth2"},
			"oauth2": map[string]any{
				"authorization_endpoint": s.BaseURL + "/oauth/authorize",
				"token_endpoint":         s.BaseURL + "/oauth/token",
				"revocation_endpoint":    s.BaseURL + "/oauth/revoke",
				"scopes":                 []string{"profile", "read"},
				"issuer":                 s.BaseURL,
				"authorization_response_iss_parameter_supported": true,
			},
		},
		map[string]any{
			"slug": "sandbox-keys", "name": "Sandbox keys", "auth_types": []string{"keybased"},
			"keybased": map[string]any{
				"fields": []any{map[string]any{"name": "api_key", "label": "API key", "type": "text",
					"secret": true, "min_length": 24, "max_length": 128}},
				"verify": map[string]any{"url": s.BaseURL + "/keys/verify",
					"headers": map[string]string{"Authorization": "Bearer {api_key}"}},
			},
		},
		map[string]any{
			"slug": "sandbox-cc", "name": "Sandbox machine to machine", "auth_types": []string{AuthOAuth2CC},
			"oauth2_cc": map[string]any{
				"token_endpoint":      s.BaseURL + "/oauth/token",
				"revocation_endpoint": s.BaseURL + "/oauth/revoke",
				"scopes":              []string{"read"},
			},
		},
		map[string]any{
			"slug": "sandbox-meta", "name": "Sandbox with metadata", "auth_types": []string{AuthOAuth2},
			"connection_fields": []any{map[string]any{"name": "team", "label": "Team", "type": "text"}},
			"oauth2": map[string]any{
				"authorization_endpoint":  s.BaseURL + "/oauth/authorize",
				"token_endpoint":          s.BaseURL + "/oauth/token",
				"revocation_endpoint":     s.BaseURL + "/oauth/revoke",
				"scopes":                  []string{"read"},
				"token_response_metadata": []string{"instance_url"},
			},
			"api_base_url": "{metadata.instance_url}/services",
		},
	}
}

// config is a fresh store in a temporary folder, with the sandbox's apps.
func (s *sandbox) config(t *testing.T) Config {
	t.Helper()
	return Config{
		Store:     filepath.Join(t.TempDir(), "refold.db"),
		MasterKey: randomKey(t),
		Catalog:   s.apps(),
		OAuthClients: map[string]OAuthClient{
			"sandbox":      {ClientID: testClientID, ClientSecret: testClientSecret},
			"sandbox-meta": {ClientID: testClientID, ClientSecret: testClientSecret},
		},
		OAuth: &OAuthConfig{InteractiveTimeoutMS: 20000},
	}
}

func (s *sandbox) open(t *testing.T) *Client {
	t.Helper()
	c, err := Open(s.config(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func randomKey(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// browser plays the user's browser: it follows the authorization URL (the
// sandbox approves at once and redirects to refold's loopback listener)
// on its own goroutine, as an opener must return before the listener reads.
type browser struct {
	done   chan struct{}
	status int
	err    error
}

var plainHTTP = &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 20 * time.Second}

func (b *browser) open(url string) error {
	b.done = make(chan struct{})
	go func() {
		defer close(b.done)
		resp, err := plainHTTP.Get(url)
		if err != nil {
			b.err = err
			return
		}
		resp.Body.Close()
		b.status = resp.StatusCode
	}()
	return nil
}

// approve plays the browser for a host that owns its redirect URI: it
// visits the authorization URL (the sandbox approves at once) and returns
// the callback URL the sandbox redirects to, without following it.
func (s *sandbox) approve(t *testing.T, authURL string) string {
	t.Helper()
	noFollow := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 302 {
		t.Fatalf("the sandbox answered %d, not a redirect", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

// connectSandbox connects account to the sandbox app through ConnectOAuth,
// with a browser that follows the authorization page; it fails the test on
// any error.
func connectSandbox(t *testing.T, c *Client, account string) {
	t.Helper()
	var b browser
	if err := c.SetURLOpener(b.open); err != nil {
		t.Fatal(err)
	}
	if err := c.ConnectOAuth(account, "sandbox"); err != nil {
		t.Fatal(err)
	}
	b.wait(t)
}

func (b *browser) wait(t *testing.T) {
	t.Helper()
	<-b.done
	if b.err != nil || b.status != 200 {
		t.Fatalf("the browser's visit failed: status %d, %v", b.status, b.err)
	}
}

// apiMe calls the sandbox's protected resource with a token.
func (s *sandbox) apiMe(t *testing.T, token string) int {
	req, _ := http.NewRequest("GET", s.BaseURL+"/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := plainHTTP.Do(req)
	if err != nil {
		t.Fatalf("GET /api/me: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// setConfig changes how the sandbox answers from now on (POST /admin/config,
// docs/devserver.md), such as {"token_response_extra": {...}}.
func (s *sandbox) setConfig(t *testing.T, config map[string]any) {
	t.Helper()
	body, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := plainHTTP.Post(s.BaseURL+"/admin/config", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST /admin/config: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST /admin/config: %d", resp.StatusCode)
	}
}

// grant is one of the sandbox's grants (GET /admin/grants; no token values).
type grant struct {
	ClientID string `json:"client_id"`
	Revoked  bool   `json:"revoked"`
}

// grants lists the grants the sandbox has given.
func (s *sandbox) grants(t *testing.T) []grant {
	t.Helper()
	resp, err := plainHTTP.Get(s.BaseURL + "/admin/grants")
	if err != nil {
		t.Fatalf("GET /admin/grants: %v", err)
	}
	defer resp.Body.Close()
	var body struct {
		Grants []grant `json:"grants"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("GET /admin/grants: %v", err)
	}
	return body.Grants
}
