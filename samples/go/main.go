// A tour of refold from Go: open a client, list apps, connect a key-based
// app and an OAuth app against the local sandbox, read a token, handle a
// re-auth event, disconnect.
//
//	refold-devserver --port 8765 --auto-approve &     # the sandbox provider
//	PKG_CONFIG_PATH=../../build/default go run .
//
// With no arguments the built-in catalog's sandbox apps (port 8765) and a
// temporary store are used; `go run . CATALOG STORE` takes a catalog file
// and a store path instead (ctest runs it so, against a sandbox on a free
// port). Secrets are never printed.
package main

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"

	"refold"
)

func main() {
	log.SetFlags(0)
	cfg := refold.Config{
		// refold-devserver's default OAuth client.
		OAuthClients: map[string]refold.OAuthClient{
			"sandbox": {ClientID: "sandbox-client", ClientSecret: "sandbox-secret"},
		},
	}
	if len(os.Args) == 3 {
		cfg.Catalog, cfg.Store = os.Args[1], os.Args[2]
	} else {
		dir, err := os.MkdirTemp("", "refold-sample")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		cfg.Store = filepath.Join(dir, "refold.db") // a key file is created beside it
	}

	fmt.Println("refold", refold.Version(), "from Go")
	client, err := refold.Open(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	const account = "customer-42"

	// Events arrive on the goroutine whose call caused them.
	client.SetEventHandler(func(ev refold.Event) {
		fmt.Printf("  event %s: %s/%s %s\n", ev.Type, ev.Account, ev.App, ev.Reason) // reason: "" or why
		if ev.Type == refold.EventExpired {
			fmt.Printf("  -> ask %s to connect %s again\n", ev.Account, ev.App)
		}
	})

	fmt.Println("1. Apps:")
	apps, err := client.ListApps(account)
	check(err)
	for _, app := range apps {
		fmt.Printf("  %-14s %v\n", app.Slug, app.AuthTypes)
	}

	fmt.Println("2. A key the provider rejects, then a good one:")
	err = client.ConnectKeyBased(account, "sandbox-keys", map[string]any{"api_key": "sk_live_0123456789abcdefghij"})
	fmt.Println("  rejected:", errors.Is(err, refold.ErrAuth), err)
	check(client.ConnectKeyBased(account, "sandbox-keys", map[string]any{"api_key": "sk_sandbox_0123456789abcdefghij"}))

	fmt.Println("3. OAuth: the opener plays the browser (the sandbox approves at once):")
	client.SetURLOpener(func(url string) error {
		go func() { // hand the URL off and return: refold then waits for the redirect
			if resp, err := http.Get(url); err == nil {
				resp.Body.Close()
			}
		}()
		return nil
	})
	check(client.ConnectOAuth(account, "sandbox"))

	fmt.Println("4. Reading the token:")
	creds, err := client.Credentials(account, "sandbox")
	check(err)
	fmt.Printf("  %s token of %d characters, scopes %v\n", creds.TokenType, len(creds.AccessToken), creds.Scopes)

	fmt.Println("5. The provider revoked access (say, a webhook told us):")
	check(client.MarkReauth(account, "sandbox", "revoked"))
	_, err = client.Credentials(account, "sandbox")
	fmt.Println("  reading again needs re-auth:", errors.Is(err, refold.ErrReauthRequired))

	fmt.Println("6. Disconnecting:")
	check(client.Disconnect(account, "sandbox"))
	check(client.Disconnect(account, "sandbox-keys"))
	conns, err := client.ListConnections(account)
	check(err)
	fmt.Println("  connections left:", len(conns))
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
