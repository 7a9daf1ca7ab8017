package refold

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Auth types, as the catalog and the listings name them.
const (
	AuthOAuth2   = "oauth2"
	AuthKeyBased = "keybased"
	// An app of the client-credentials grant (docs/catalog.md): its token
	// comes from the customer's client id and secret, not from a user.
	AuthOAuth2CC = "oauth2_cc"
)

// Event types (Event.Type).
const (
	EventCreated         = "connection.created"
	EventReauthenticated = "connection.reauthenticated"
	EventRefreshed       = "connection.refreshed"
	EventRefreshFailed   = "connection.refresh_failed"
	EventExpired         = "connection.expired" // the user must connect again; Reason says why
	EventDeleted         = "connection.deleted"
)

// Config is the configuration of Open; empty fields take the library's
// defaults (see refold_client_open in refold.h for each key).
type Config struct {
	Store        string                 `json:"store,omitempty"`      // SQLite file; default under $XDG_DATA_HOME/refold
	MasterKey    string                 `json:"master_key,omitempty"` // 32 bytes, base64 or hex
	KeyFile      string                 `json:"key_file,omitempty"`   // file holding the master key
	Passphrase   string                 `json:"passphrase,omitempty"` // master key derived with Argon2id
	Catalog      any                    `json:"catalog,omitempty"`    // a file path, or app definitions (a slice or json.RawMessage)
	OAuthClients map[string]OAuthClient `json:"oauth_clients,omitempty"`
	HTTP         *HTTPConfig            `json:"http,omitempty"`
	OAuth        *OAuthConfig           `json:"oauth,omitempty"`

	RefreshAheadMS    *int `json:"refresh_ahead_ms,omitempty"`   // refresh this long before expiry (default 300000)
	BackgroundRefresh bool `json:"background_refresh,omitempty"` // a thread refreshes tokens as they come due
	CredentialCache   *int `json:"credential_cache,omitempty"`   // connections kept decrypted in memory (default 10000; 0: none)
	// How long the durable event log (ReadEvents) keeps an event, "1h" to
	// "365d"; "": "7d".
	EventRetention string `json:"event_retention,omitempty"`
}

// OAuthClient is an OAuth client registration with an app's provider.
type OAuthClient struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret,omitempty"`
	RedirectURI  string   `json:"redirect_uri,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
}

// HTTPConfig configures the HTTPS client; zero values keep the defaults.
type HTTPConfig struct {
	CAFile           string `json:"ca_file,omitempty"`
	ConnectTimeoutMS int    `json:"connect_timeout_ms,omitempty"`
	TimeoutMS        int    `json:"timeout_ms,omitempty"`
	MaxBodyBytes     int    `json:"max_body_bytes,omitempty"`
}

// OAuthConfig configures the interactive flow; zero values keep the
// defaults (an ephemeral loopback port, a 5-minute timeout).
type OAuthConfig struct {
	LoopbackPort         int `json:"loopback_port,omitempty"`
	InteractiveTimeoutMS int `json:"interactive_timeout_ms,omitempty"`
}

// Credentials of one connection. Key-based: Fields. OAuth 2.0 (AuthType
// AuthOAuth2, or AuthOAuth2CC for a client-credentials app): AccessToken,
// TokenType, ExpiresAt (nil when the provider gave no expiry), Scopes,
// ClientID, User, and Connection, Metadata and APIBaseURL when the app
// declares them. The refresh token never leaves the library, nor does a
// customer's client secret. Printing Credentials or a UserToken with the
// fmt package shows no secret.
type Credentials struct {
	AuthType    string         `json:"auth_type"`
	Fields      map[string]any `json:"fields,omitempty"` // values: string, bool or json.Number
	AccessToken string         `json:"access_token,omitempty"`
	TokenType   string         `json:"token_type,omitempty"`
	ExpiresAt   *time.Time     `json:"expires_at,omitempty"`
	Scopes      []string       `json:"scopes,omitempty"`
	// The customer's own client the connection was made with
	// (OAuthOptions.Client, or the client_id a client-credentials app was
	// connected with); "" for the host's registration.
	ClientID string `json:"client_id,omitempty"`
	// A second token of the same grant (Slack's user token), when the app
	// keeps one; nil otherwise.
	User *UserToken `json:"user,omitempty"`
	// The connection inputs it was made with (the app's connection_fields,
	// such as a tenant's subdomain); nil when the app has none.
	Connection map[string]string `json:"connection,omitempty"`
	// Values kept from the provider's answers (the app's
	// token_response_metadata, callback_metadata and after_connect, such
	// as Salesforce's instance_url); nil when the app keeps none.
	Metadata map[string]string `json:"metadata,omitempty"`
	// Where to call the provider's API for this connection (the app's
	// api_base_url, filled in); "" when the app declares none.
	APIBaseURL string `json:"api_base_url,omitempty"`
}

// UserToken is the second token an OAuth grant may carry beside the
// connection's own (Slack's user token beside its bot token).
type UserToken struct {
	AccessToken string     `json:"access_token"`
	TokenType   string     `json:"token_type"`
	ExpiresAt   *time.Time `json:"expires_at"` // nil when the provider gave no expiry
	Scopes      []string   `json:"scopes"`
	ID          string     `json:"id,omitempty"` // the user it acts for, when the provider names them
}

// String describes the token without its value.
func (u UserToken) String() string {
	name := "user token"
	if u.ID != "" {
		name += fmt.Sprintf(" of %q", u.ID)
	}
	return fmt.Sprintf("%s (%s, %s, scopes %s)", name, u.TokenType, expiry(u.ExpiresAt), strings.Join(u.Scopes, " "))
}

// GoString keeps %#v from printing the token too.
func (u UserToken) GoString() string { return "refold.UserToken{" + u.String() + "}" }

func expiry(at *time.Time) string {
	if at == nil {
		return "no expiry"
	}
	return "expires " + at.Format(time.RFC3339)
}

// String describes the credentials without their secret values.
func (c Credentials) String() string {
	if c.AuthType == AuthKeyBased {
		names := make([]string, 0, len(c.Fields))
		for name := range c.Fields {
			names = append(names, name)
		}
		sort.Strings(names)
		return fmt.Sprintf("keybased credentials (fields %s)", strings.Join(names, ", "))
	}
	client := ""
	if c.ClientID != "" {
		client = fmt.Sprintf(", client %q", c.ClientID)
	}
	// Not secret: the inputs, the metadata and the API base are shown.
	extra := ""
	if len(c.Connection) > 0 {
		extra += ", connection " + pairs(c.Connection)
	}
	if len(c.Metadata) > 0 {
		extra += ", metadata " + pairs(c.Metadata)
	}
	if c.APIBaseURL != "" {
		extra += fmt.Sprintf(", api base %q", c.APIBaseURL)
	}
	user := ""
	if c.User != nil {
		user = "; " + c.User.String()
	}
	return fmt.Sprintf("%s credentials (%s token, %s, scopes %s%s%s%s)", c.AuthType, c.TokenType,
		expiry(c.ExpiresAt), strings.Join(c.Scopes, " "), client, extra, user)
}

// pairs writes a map of strings as name=value pairs in name order.
func pairs(m map[string]string) string {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, name := range names {
		names[i] = fmt.Sprintf("%s=%q", name, m[name])
	}
	return "{" + strings.Join(names, " ") + "}"
}

// GoString keeps %#v from printing secrets too.
func (c Credentials) GoString() string { return "refold.Credentials{" + c.String() + "}" }

// App is one entry of the catalog with an account's connection state, in
// the shape a connection UI needs.
type App struct {
	Slug              string                  `json:"slug"`
	Name              string                  `json:"name"`
	Description       string                  `json:"description"`
	Icon              string                  `json:"icon"`
	Category          string                  `json:"category"` // crm, support, ... (docs/catalog.md)
	DocsURL           string                  `json:"docs_url"` // the provider's API documentation
	Tags              []string                `json:"tags"`
	AuthTypes         []string                `json:"auth_types"`
	AuthTypeOptions   map[string][]InputField `json:"auth_type_options"` // "keybased": the fields to ask for
	Connected         bool                    `json:"connected"`
	ReauthRequired    bool                    `json:"reauth_required"`
	ConnectedAccounts []ConnectedAccount      `json:"connected_accounts"`
	// The inputs an OAuth connection is made with (a tenant's subdomain),
	// passed to OAuthBegin's options as "connection"; empty for most apps.
	ConnectionFields []InputField `json:"connection_fields"`
}

// InputField is a field a key-based app asks for.
type InputField struct {
	Name        string         `json:"name"`
	Label       string         `json:"label"`
	Type        string         `json:"type"` // text, number, boolean, select
	Required    bool           `json:"required"`
	Secret      bool           `json:"secret"`
	Placeholder string         `json:"placeholder"`
	HelpText    string         `json:"help_text"`
	Pattern     string         `json:"pattern,omitempty"`
	MinLength   *int           `json:"min_length,omitempty"`
	MaxLength   *int           `json:"max_length,omitempty"`
	Minimum     *float64       `json:"minimum,omitempty"`
	Maximum     *float64       `json:"maximum,omitempty"`
	Options     []SelectOption `json:"options,omitempty"`
	// A host input's domains: the value is a whole host name equal to one
	// of them or ending in "." and one; nil for other fields.
	HostSuffixes []string `json:"host_suffixes,omitempty"`
}

// SelectOption is one choice of a select field.
type SelectOption struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ConnectedAccount is one connection of an app in a listing.
type ConnectedAccount struct {
	AuthType    string    `json:"auth_type"`
	ConnectedAt time.Time `json:"connected_at"`
	Status      string    `json:"status"` // active or expired
	Reason      string    `json:"reason,omitempty"`
}

// Connection is one (account, app, auth type) connection. It holds no
// secret.
type Connection struct {
	Account  string `json:"account"`
	App      string `json:"app"`
	AuthType string `json:"auth_type"`
	Status   string `json:"status"` // active or reauth_required
	// Why re-auth is required, or for an active connection why its last
	// refresh failed; "" when none.
	Reason          string     `json:"reason"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	ExpiresAt       *time.Time `json:"expires_at"`      // the OAuth token's expiry, if any
	NextRefreshAt   *time.Time `json:"next_refresh_at"` // when a refresh is due, if any
	RefreshFailures int        `json:"refresh_failures"`
	// When the refresh token lapses, when the provider said so; nil
	// otherwise. After it the connection is reauth_required (reason
	// "expired").
	RefreshTokenExpiresAt *time.Time `json:"refresh_token_expires_at,omitempty"`
	// What Credentials also returns, none of it secret: the connection
	// inputs it was made with, the values kept from the provider's answers
	// and where to call its API. nil or "" when the app declares none.
	Connection map[string]string `json:"connection,omitempty"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	APIBaseURL string            `json:"api_base_url,omitempty"`
}

// ConnectionQuery selects the connections ListConnectionsPage lists; each
// empty field selects everything.
type ConnectionQuery struct {
	Account string `json:"account,omitempty"` // one account's; "": every account's
	App     string `json:"app,omitempty"`     // one app's (a slug)
	Status  string `json:"status,omitempty"`  // "active" or "reauth_required"
	Limit   int    `json:"limit,omitempty"`   // at most this many, 1 to 1000; 0: 100
	Cursor  string `json:"cursor,omitempty"`  // the previous page's NextCursor; "": the first page
}

// ConnectionPage is one page of ListConnectionsPage.
type ConnectionPage struct {
	Connections []Connection `json:"connections"`
	// The Cursor of the next page of the same query; "" on the last page.
	// Opaque; it works with any client of the same store.
	NextCursor string `json:"next_cursor"`
}

// CopyReport is what CopyConnectionsTo copied.
type CopyReport struct {
	Copied         int64 `json:"copied"`          // connections copied
	ReauthRequired int64 `json:"reauth_required"` // of those, the ones that still need re-auth
}

// DataKeyStatus describes the store's data keys (see RotateDataKey).
type DataKeyStatus struct {
	CurrentKey int64 `json:"current_key"` // the key every write seals under
	// Rotating is true while a retiring key remains: a rotation is under
	// way, or stopped part-way (RotateDataKey finishes it).
	Rotating        bool      `json:"rotating"`
	RecordsToReseal int64     `json:"records_to_reseal"` // records still under retiring keys
	Keys            []DataKey `json:"keys"`              // oldest first
}

// DataKey is one data key of the store, with the records it seals.
type DataKey struct {
	ID           int64     `json:"id"`
	CreatedAt    time.Time `json:"created_at"`
	State        string    `json:"state"` // "current" or "retiring"
	Connections  int64     `json:"connections"`
	PendingFlows int64     `json:"pending_flows"`
}

// Event tells that a connection changed.
type Event struct {
	Type     string    `json:"type"` // EventCreated, ...
	Account  string    `json:"account"`
	App      string    `json:"app"`
	AuthType string    `json:"auth_type"`
	At       time.Time `json:"at"`
	Reason   string    `json:"reason,omitempty"`
	// EventRefreshFailed: when the refresh is retried.
	RetryAt *time.Time `json:"retry_at,omitempty"`
	// EventDeleted of an OAuth connection whose app can revoke tokens:
	// whether the provider confirmed revoking them.
	Revoked *bool `json:"revoked,omitempty"`
}

// LoggedEvent is an Event as the durable event log keeps it (ReadEvents),
// with its position in the log. Revoked is always nil: it is known only
// after the commit that writes the event.
type LoggedEvent struct {
	Seq int64 `json:"seq"` // pass the last one handled to AckEvents
	Event
}

// EventPage is what ReadEvents returns: the consumer's next events, in the
// order their changes committed.
type EventPage struct {
	Events []LoggedEvent `json:"events"` // empty: the consumer is up to date
	// Missed is true when events the consumer had not acknowledged were
	// removed (they outlived the store's event_retention) before it read
	// them.
	Missed bool `json:"missed"`
}

// OAuthOptions adjust BeginOAuth and ConnectOAuthWith; zero values keep the
// registration's.
type OAuthOptions struct {
	RedirectURI string            `json:"redirect_uri,omitempty"` // BeginOAuth only
	Scopes      []string          `json:"scopes,omitempty"`
	Params      map[string]string `json:"params,omitempty"` // extra authorize parameters the app allows
	// The app's connection inputs (its connection_fields), such as a
	// tenant's subdomain: strings, numbers or booleans.
	Connection map[string]any `json:"connection,omitempty"`
	// The customer's own OAuth client for this one connection; nil: the
	// host's registration in Config.OAuthClients.
	Client *CustomerClient `json:"client,omitempty"`
}

// CustomerClient is a customer's own OAuth client (their own Slack app,
// their Salesforce connected app), given for one connection in
// OAuthOptions.Client. It authorizes, exchanges the code and from then on
// refreshes and revokes that connection instead of the host's
// registration, whose redirect URI and scopes still serve as defaults. The
// secret is sealed with the connection and never returned: Credentials
// show only the ClientID. Printing a CustomerClient with the fmt package
// shows no secret.
//
// It is not an OAuthClient: the host's registration in Config also takes
// a redirect URI and scopes, which the options give on their own.
type CustomerClient struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// String names the client without its secret.
func (c CustomerClient) String() string {
	return fmt.Sprintf("client %q (secret redacted)", c.ClientID)
}

// GoString keeps %#v from printing the secret too.
func (c CustomerClient) GoString() string {
	return fmt.Sprintf("refold.CustomerClient{ClientID: %q, ClientSecret: \"<redacted>\"}", c.ClientID)
}

// OAuthResult is what CompleteOAuth connected.
type OAuthResult struct {
	Account  string `json:"account"`
	App      string `json:"app"`
	AuthType string `json:"auth_type"`
	Status   string `json:"status"`
}

// decodeJSON decodes what the library returned; numbers of free-form
// values stay exact (json.Number).
func decodeJSON(text []byte, out any) error {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return &Error{Code: CodeInternal, Message: "unexpected JSON from the library: " + err.Error()}
	}
	return nil
}

func parseEvent(text string) (Event, error) {
	var ev Event
	err := decodeJSON([]byte(text), &ev)
	return ev, err
}
