package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// State is what setup made, cached in --state so that a second run against the same server skips
// the slow part (argon2id costs tens of milliseconds per sign-in). Users are appended in order,
// so user i is the same person in every run.
type State struct {
	Admin struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		Token    string `json:"token"`
		TOTP     string `json:"totp,omitempty"` // base32 secret, when the account has a second factor
		TOTPStep int64  `json:"totp_step,omitempty"`
	} `json:"admin"`
	Tag           string            `json:"tag"`      // in every bench email address, so runs never collide
	Password      string            `json:"password"` // of every bench user
	Users         []StateUser       `json:"users"`
	Conversations map[string]string `json:"conversations"` // "N/M/k" → id: conversation k of the layout
	mu            sync.Mutex
}

type StateUser struct {
	ID       string `json:"id"`
	Email    string `json:"email"`
	Token    string `json:"token"`
	TOTP     string `json:"totp,omitempty"`
	TOTPStep int64  `json:"totp_step,omitempty"`
}

func loadState(path string) (*State, error) {
	st := &State{Conversations: map[string]string{}}
	if path == "" {
		return st, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	} else if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if st.Conversations == nil {
		st.Conversations = map[string]string{}
	}
	return st, nil
}

func (st *State) save(path string) error {
	if path == "" {
		return nil
	}
	st.mu.Lock()
	b, err := json.Marshal(st)
	st.mu.Unlock()
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func randomSecret() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.EncodeToString(b))
}

// memberOf is the layout: member j of conversation k, of a population of n users.
func memberOf(k, j, m, n int) int { return (k*m + j) % n }

func convKey(n, m, k int) string { return fmt.Sprintf("%d/%d/%d", n, m, k) }

// parallel runs fn(0..n-1) on a bounded pool and returns the first error.
func parallel(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, max(n, 1)) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// retry calls fn up to three times while it fails for a reason that may pass (transport, 5xx, 429).
func retry(ctx context.Context, fn func() error) error {
	var err error
	for attempt := range 3 {
		if err = fn(); err == nil {
			return nil
		}
		var ae *APIError
		if errors.As(err, &ae) && ae.Status < 500 && ae.Status != 429 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt+1) * 500 * time.Millisecond):
		}
	}
	return err
}

// progress prints "what: done/total" to stderr every few seconds until stopped.
func progress(what string, done *atomic.Int64, total int) func() {
	stop := make(chan struct{})
	start := time.Now()
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				logf("%s: %d/%d (%.0fs)", what, done.Load(), total, time.Since(start).Seconds())
			}
		}
	}()
	return func() { close(stop) }
}

// adminToken returns a working admin token: from the state, by signing in with --admin-email and
// --admin-password, or by bootstrapping a new organisation with --wardline in --data-dir.
func (b *Bench) adminToken(ctx context.Context) (string, error) {
	st, base := b.state, b.cfg.URLs[0]
	if st.Admin.Token != "" && b.api.Me(ctx, base, st.Admin.Token) == nil {
		return st.Admin.Token, nil
	}
	if b.cfg.AdminEmail != "" {
		st.Admin.Email, st.Admin.Password = b.cfg.AdminEmail, b.cfg.AdminPassword
		if b.cfg.AdminTOTP != "" {
			st.Admin.TOTP = b.cfg.AdminTOTP
		}
	}
	if st.Admin.Email == "" {
		if b.cfg.DataDir == "" || b.cfg.Wardline == "" {
			return "", errors.New("give --admin-email and --admin-password, or --data-dir and --wardline to bootstrap an admin")
		}
		out, err := exec.CommandContext(ctx, b.cfg.Wardline, "admin", "bootstrap", "--data-dir", b.cfg.DataDir,
			"--org", "Wardline Bench", "--email", "admin@bench.test", "--name", "Bench Admin", "--json").Output()
		if err != nil {
			return "", fmt.Errorf("wardline admin bootstrap: %w (an organisation may already exist: pass --admin-email/--admin-password or the --state of the run that bootstrapped it)", err)
		}
		var boot struct {
			InitialPassword string `json:"initial_password"`
		}
		if err := json.Unmarshal(out, &boot); err != nil {
			return "", fmt.Errorf("wardline admin bootstrap printed %q: %w", out, err)
		}
		pw := randomSecret()
		l, secret, step, err := b.api.FirstSignIn(ctx, base, "admin@bench.test", boot.InitialPassword, pw)
		if err != nil {
			return "", err
		}
		st.Admin.Email, st.Admin.Password, st.Admin.TOTP, st.Admin.TOTPStep, st.Admin.Token = "admin@bench.test", pw, secret, step, l.Token
		return l.Token, b.state.save(b.cfg.State)
	}
	l, err := b.api.SignIn(ctx, base, st.Admin.Email, st.Admin.Password, st.Admin.TOTP, &st.Admin.TOTPStep)
	if err != nil {
		return "", fmt.Errorf("admin sign-in: %w", err)
	}
	if l.PasswordChangeRequired {
		return "", errors.New("the admin's initial password must be changed first")
	}
	st.Admin.Token = l.Token
	return l.Token, b.state.save(b.cfg.State)
}

// setup makes sure users 0..N-1 exist with working tokens and the layout's conversations exist.
func (b *Bench) setup(ctx context.Context) error {
	st, cfg := b.state, b.cfg
	admin, err := b.adminToken(ctx)
	if err != nil {
		return err
	}
	if st.Tag == "" {
		st.Tag, st.Password = randomSecret()[:8], randomSecret()
	}
	// Tokens of existing users may have expired (60 min idle): check, and sign in again if so.
	have := min(len(st.Users), cfg.allUsers())
	var done atomic.Int64
	stop := progress("checking sessions", &done, have)
	err = parallel(ctx, have, 16, func(ctx context.Context, i int) error {
		defer done.Add(1)
		u := &st.Users[i]
		base := cfg.URLs[i%len(cfg.URLs)]
		if b.api.Me(ctx, base, u.Token) == nil {
			return nil
		}
		return retry(ctx, func() error {
			l, err := b.api.SignIn(ctx, base, u.Email, st.Password, u.TOTP, &u.TOTPStep)
			if err == nil {
				u.Token = l.Token
			}
			return err
		})
	})
	stop()
	if err != nil {
		return fmt.Errorf("refresh sessions: %w", err)
	}
	if missing := cfg.allUsers() - len(st.Users); missing > 0 {
		if err := b.createUsers(ctx, admin, missing); err != nil {
			return err
		}
	}
	return b.createConversations(ctx)
}

func (b *Bench) createUsers(ctx context.Context, admin string, missing int) error {
	st, cfg := b.state, b.cfg
	start := time.Now()
	first := len(st.Users)
	made := make([]*StateUser, missing)
	var done atomic.Int64
	stop := progress("creating users", &done, missing)
	defer stop()
	err := parallel(ctx, missing, cfg.SetupWorkers, func(ctx context.Context, i int) error {
		n := first + i
		base := cfg.URLs[n%len(cfg.URLs)]
		email := fmt.Sprintf("bench-%s-%06d@bench.test", st.Tag, n)
		var id, initial string
		err := retry(ctx, func() (err error) {
			id, initial, err = b.api.CreateUser(ctx, base, admin, email, "Bench User "+strconv.Itoa(n))
			return err
		})
		if err != nil {
			return fmt.Errorf("create user %d: %w", n, err)
		}
		l, secret, step, err := b.api.FirstSignIn(ctx, base, email, initial, st.Password)
		if err != nil {
			return fmt.Errorf("user %d: %w", n, err)
		}
		st.mu.Lock()
		made[i] = &StateUser{ID: id, Email: email, Token: l.Token, TOTP: secret, TOTPStep: step}
		st.mu.Unlock()
		if done.Add(1)%100 == 0 {
			b.keepUsers(made)
		}
		return nil
	})
	b.keepUsers(made)
	if err != nil {
		return err
	}
	logf("created %d users in %.1fs", missing, time.Since(start).Seconds())
	return nil
}

// keepUsers appends the finished prefix of made to the state and saves it, so that an
// interrupted setup resumes where it stopped.
func (b *Bench) keepUsers(made []*StateUser) {
	st := b.state
	st.mu.Lock()
	for len(st.Users) < b.cfg.allUsers() {
		i := len(st.Users) - (b.cfg.allUsers() - len(made))
		if i < 0 || i >= len(made) || made[i] == nil {
			break
		}
		st.Users = append(st.Users, *made[i])
	}
	st.mu.Unlock()
	if err := st.save(b.cfg.State); err != nil {
		logf("save state: %v", err)
	}
}

func (b *Bench) createConversations(ctx context.Context) error {
	st, cfg := b.state, b.cfg
	n, m := cfg.Users, cfg.ConvSize
	var mu sync.Mutex
	var done atomic.Int64
	stop := progress("creating conversations", &done, cfg.Conversations)
	err := parallel(ctx, cfg.Conversations, 8, func(ctx context.Context, k int) error {
		defer done.Add(1)
		mu.Lock()
		id := st.Conversations[convKey(n, m, k)]
		mu.Unlock()
		if id != "" {
			return nil
		}
		owner := memberOf(k, 0, m, n)
		var others []string
		for j := 1; j < m; j++ {
			others = append(others, st.Users[memberOf(k, j, m, n)].ID)
		}
		base := cfg.URLs[owner%len(cfg.URLs)]
		err := retry(ctx, func() (err error) {
			id, err = b.api.CreateGroup(ctx, base, st.Users[owner].Token, fmt.Sprintf("Bench %d/%d #%d", n, m, k), others)
			return err
		})
		if err != nil {
			return fmt.Errorf("create conversation %d: %w", k, err)
		}
		mu.Lock()
		st.Conversations[convKey(n, m, k)] = id
		mu.Unlock()
		return nil
	})
	stop()
	if serr := st.save(cfg.State); serr != nil && err == nil {
		err = serr
	}
	return err
}
