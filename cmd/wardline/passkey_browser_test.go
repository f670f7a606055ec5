package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"wardline"
)

// TestPasskeyInBrowser registers a passkey and signs in with it (as the second factor, then
// passwordless) in headless Chromium, whose virtual authenticator (CDP WebAuthn domain, user
// verification on) plays the phone's Face ID. The server is the real one over HTTPS on localhost
// with its self-signed certificate; the browser runs the ceremonies with fetch and
// navigator.credentials from a page of the server's own origin, as the web app will.
func TestPasskeyInBrowser(t *testing.T) {
	bin := requireTool(t, "chromium") // apt-get install -y chromium
	ts := MustRunServerMFA(t, func(m *Main) { m.Config.HTTP = false })
	if !strings.HasPrefix(ts.URL, "https://") {
		t.Fatalf("server URL %s: want https", ts.URL)
	}
	origin := strings.Replace(ts.URL, "127.0.0.1", "localhost", 1) // the relying party is localhost
	u := ts.NewUser("member")                                      // password changed; must enrol

	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("ignore-certificate-errors", true), // the server's self-signed certificate
		chromedp.Flag("host-resolver-rules", "MAP localhost 127.0.0.1"),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancel()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	if err := chromedp.Run(ctx,
		chromedp.Navigate(origin+"/healthz"),
		chromedp.ActionFunc(func(ctx context.Context) error {
			if err := webauthn.Enable().WithEnableUI(false).Do(ctx); err != nil {
				return err
			}
			_, err := webauthn.AddVirtualAuthenticator(&webauthn.VirtualAuthenticatorOptions{
				Protocol:                    webauthn.AuthenticatorProtocolCtap2,
				Ctap2version:                webauthn.Ctap2versionCtap21,
				Transport:                   webauthn.AuthenticatorTransportInternal,
				HasResidentKey:              true,
				HasUserVerification:         true,
				IsUserVerified:              true,
				AutomaticPresenceSimulation: true,
			}).Do(ctx)
			return err
		}),
	); err != nil {
		t.Fatalf("browser: %v", err)
	}

	// run evaluates an async function body in the page and returns what it returns, as JSON.
	run := func(body string, args ...any) map[string]any {
		t.Helper()
		if args == nil {
			args = []any{}
		}
		a, _ := json.Marshal(args)
		js := fmt.Sprintf(`(async (...args) => { %s %s })(...%s).then(r => JSON.stringify(r), e => JSON.stringify({error: String(e)}))`, browserHelpers, body, a)
		var out string
		if err := chromedp.Run(ctx, chromedp.Evaluate(js, &out, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
			return p.WithAwaitPromise(true)
		})); err != nil {
			t.Fatalf("evaluate: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("result %q: %v", out, err)
		}
		if e, ok := m["error"]; ok {
			t.Fatalf("in the browser: %v", e)
		}
		return m
	}

	// Sign in with the password (cookie session, CSRF header), which must enrol a second factor:
	// register a passkey, which lifts the restriction on the same session.
	got := run(`
		const login = await api("POST", "/api/v1/auth/login", {email: args[0], password: args[1]});
		if (login.status !== 200 || !login.body.mfa_enrollment_required) return {error: "login: " + JSON.stringify(login)};
		const before = await api("GET", "/api/v1/conversations");
		const begin = await api("POST", "/api/v1/me/passkeys/begin");
		const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(begin.body.public_key);
		const cred = await navigator.credentials.create({publicKey});
		const finish = await api("POST", "/api/v1/me/passkeys/finish", {name: "Headless Chromium", credential: cred.toJSON()});
		const after = await api("GET", "/api/v1/conversations");
		await api("POST", "/api/v1/auth/logout");
		return {before: before.status, finish: finish.status, name: finish.body.name, after: after.status};
	`, u.User.Email, u.User.PasswordHash)
	if got["before"] != 403.0 || got["finish"] != 201.0 || got["name"] != "Headless Chromium" || got["after"] != 200.0 {
		t.Fatalf("registration: %v", got)
	}

	// Sign in again: the password, then the passkey as the second factor.
	got = run(`
		const login = await api("POST", "/api/v1/auth/login", {email: args[0], password: args[1]});
		if (login.status !== 401 || login.body.error.code !== "mfa_required") return {error: "login: " + JSON.stringify(login)};
		const begin = await api("POST", "/api/v1/auth/mfa/webauthn/begin", {mfa_token: login.body.mfa_token});
		const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(begin.body.public_key);
		const cred = await navigator.credentials.get({publicKey});
		const finish = await api("POST", "/api/v1/auth/mfa/webauthn/finish", {mfa_token: login.body.mfa_token, credential: cred.toJSON()});
		const me = await api("GET", "/api/v1/me");
		await api("POST", "/api/v1/auth/logout");
		return {methods: login.body.methods.join(","), finish: finish.status, me: me.status, email: me.body.email};
	`, u.User.Email, u.User.PasswordHash)
	if got["finish"] != 200.0 || got["me"] != 200.0 || got["email"] != u.User.Email || got["methods"] != wardline.MethodWebAuthn {
		t.Fatalf("second factor: %v", got)
	}

	// Passwordless, once the organisation allows it.
	passwordless := `
		const begin = await api("POST", "/api/v1/auth/passkey/begin");
		const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(begin.body.public_key);
		const cred = await navigator.credentials.get({publicKey});
		const finish = await api("POST", "/api/v1/auth/passkey/finish", {challenge_id: begin.body.challenge_id, credential: cred.toJSON()});
		const me = await api("GET", "/api/v1/me");
		return {finish: finish.status, me: me.status, email: me.body.email || ""};
	`
	if got = run(passwordless); got["finish"] != 403.0 {
		t.Fatalf("passwordless before the policy allows it: %v", got)
	}
	ts.mustStatus(ts.Admin.Do("PATCH", "/api/v1/admin/policy", map[string]any{"passwordless_allowed": true}, nil), 200)
	if got = run(passwordless); got["finish"] != 200.0 || got["me"] != 200.0 || got["email"] != u.User.Email {
		t.Fatalf("passwordless: %v", got)
	}
}

// browserHelpers is the page's tiny API client: JSON in and out, the CSRF header a browser sends
// (the session lives in the HttpOnly cookie).
const browserHelpers = `
	const api = async (method, path, body) => {
		const r = await fetch(path, {method, headers: {"Content-Type": "application/json", "X-Wardline-CSRF": "1"},
			body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin"});
		const text = await r.text();
		return {status: r.status, body: text ? JSON.parse(text) : null};
	};
`
