// Package app holds Wardline's services: every rule about who may see and do what lives here,
// once. A service method authorises, validates, seals content, writes the change and its audit
// event in one transaction, and publishes events only after the commit.
package app

import (
	"context"
	"log/slog"
	"time"

	"wardline"
	"wardline/audit"
)

// Config holds the knobs of the services that are not organisation policy.
type Config struct {
	// PasswordParams are the argon2id parameters for new hashes (tests lower them).
	PasswordParams PasswordParams
	// DeliveryFlushInterval is how often delivered watermarks are written and announced while
	// few advance; under load flushes space out to at most four times this (see flushWait).
	DeliveryFlushInterval time.Duration
	// ReplayLimit is the most messages replayed per conversation on resume.
	ReplayLimit int

	// CheckpointInterval is how often, at most, the audit log gets a signed checkpoint while it
	// grows (the issue asks for at least every minute).
	CheckpointInterval time.Duration
	// Witnesses receive a copy of every signed checkpoint.
	Witnesses []Witness
	// SchedulerInterval is how often the scheduler looks for due escalation steps and rota
	// changes; negative disables the background rounds (tests call Scheduler.Tick themselves).
	SchedulerInterval time.Duration
	// SharedAuditLog says that other nodes write to the same store (PostgreSQL): the alerts
	// then count from the log in the store, every node's entries, rather than from this node's
	// commits alone.
	SharedAuditLog bool
	// WebAuthn names the relying party passkeys are bound to; RPID "" disables passkeys.
	WebAuthn WebAuthnConfig
}

// DefaultConfig is what the server runs with.
var DefaultConfig = Config{
	PasswordParams:        DefaultPasswordParams,
	DeliveryFlushInterval: 250 * time.Millisecond,
	ReplayLimit:           500,
	CheckpointInterval:    time.Minute,
	SchedulerInterval:     time.Second,
}

// App wires the services to their dependencies.
type App struct {
	Auth          *AuthService
	Users         *UserService
	Conversations *ConversationService
	Messages      *MessageService
	Deliveries    *Deliveries
	Audit         *AuditService
	Alerts        *Alerts
	Checkpoints   *Checkpointer
	Patients      *PatientService
	Roles         *RoleService
	Clinical      *ClinicalService
	Scheduler     *Scheduler
	Passkeys      *PasskeyService

	deps        *deps
	unsubscribe func()
}

// deps are what every service shares.
type deps struct {
	store  wardline.Store
	bus    wardline.EventBus
	keys   wardline.Keyring
	clock  wardline.Clock
	log    *slog.Logger
	config Config

	auditKeys AuditKeys        // nil when the keyring cannot sign (checkpoints are then off)
	nodes     *audit.NodeCache // for inclusion and consistency proofs
	policies  policyCache      // organisations' clinical policies
	convs     *convCache       // recent conversation snapshots for the send path
}

// New builds the services. Call Close to flush pending delivered receipts.
func New(store wardline.Store, bus wardline.EventBus, keys wardline.Keyring, clock wardline.Clock, log *slog.Logger, cfg Config) *App {
	if cfg.PasswordParams.Memory == 0 {
		cfg.PasswordParams = DefaultConfig.PasswordParams
	}
	if cfg.DeliveryFlushInterval <= 0 {
		cfg.DeliveryFlushInterval = DefaultConfig.DeliveryFlushInterval
	}
	if cfg.ReplayLimit <= 0 {
		cfg.ReplayLimit = DefaultConfig.ReplayLimit
	}
	if cfg.CheckpointInterval <= 0 {
		cfg.CheckpointInterval = DefaultConfig.CheckpointInterval
	}
	if cfg.SchedulerInterval == 0 {
		cfg.SchedulerInterval = DefaultConfig.SchedulerInterval
	}
	d := &deps{store: store, bus: bus, keys: keys, clock: clock, log: log, config: cfg, nodes: audit.NewNodeCache(8), convs: newConvCache()}
	d.auditKeys, _ = keys.(AuditKeys)
	a := &App{deps: d}
	a.Alerts = newAlerts(d)
	// Every service writes through the observed store, so that each committed audit entry
	// reaches the alerts after its commit, whichever service wrote it.
	d.store = observedStore{Store: store, observe: a.Alerts.observe}
	a.Auth = &AuthService{deps: d}
	a.Users = &UserService{deps: d}
	a.Conversations = &ConversationService{deps: d}
	a.Messages = &MessageService{deps: d}
	a.Deliveries = newDeliveries(d)
	a.Audit = &AuditService{deps: d}
	a.Checkpoints = newCheckpointer(d)
	a.Audit.checkpoints, a.Audit.alerts = a.Checkpoints, a.Alerts
	a.Patients = &PatientService{deps: d}
	a.Roles = &RoleService{deps: d}
	a.Clinical = &ClinicalService{deps: d}
	a.Scheduler = newScheduler(d)
	a.Passkeys = newPasskeyService(d)
	a.Passkeys.auth = a.Auth
	a.Auth.passkeys = a.Passkeys
	// A key shredded on any node must stop opening content on every node at once.
	a.unsubscribe = bus.Subscribe(func(e *wardline.Event) {
		if e.Type == wardline.EventConversationUpdated && e.Conversation != nil {
			d.convs.forget(e.Conversation.ID)
		}
		if e.Type == wardline.EventDutyChanged {
			d.convs.clear()
		}
		if e.Type == wardline.EventKeyShredded && e.Scope != "" {
			keys.Forget(e.Scope)
		}
	})
	return a
}

// Start starts the audit log's background work: the alerts (rebuilt from the last hour of the
// log) and the checkpointer. serve calls it; tests that drive them by hand need not.
func (a *App) Start(ctx context.Context) error {
	if err := a.Alerts.Start(ctx); err != nil {
		return err
	}
	a.Checkpoints.Start()
	return nil
}

// Close stops background work, flushing what is pending, and signs a last checkpoint.
func (a *App) Close() {
	a.Scheduler.Close()
	a.unsubscribe()
	a.Deliveries.Close()
	a.Alerts.Close()
	if err := a.Checkpoints.Stop(context.Background()); err != nil {
		a.deps.log.Error("final audit checkpoint", "err", err)
	}
}

// now returns the clock's time at microsecond precision, the precision every store keeps.
func (d *deps) now() time.Time { return d.clock.Now().UTC().Truncate(time.Microsecond) }

// publish sends an event after commit. The bus only wakes nodes up; a failure is logged and the
// clients recover by resume, so it never fails the request that already committed.
func (d *deps) publish(ctx context.Context, e *wardline.Event) {
	if err := d.bus.Publish(context.WithoutCancel(ctx), e); err != nil {
		d.log.Warn("publish event", "type", e.Type, "err", err)
	}
}

// auditEvent builds an audit event for the actor in ctx.
func (d *deps) auditEvent(ctx context.Context, action, targetType, targetID string) *wardline.AuditEvent {
	e := &wardline.AuditEvent{
		ID:         wardline.NewID(),
		At:         d.now(),
		Action:     action,
		TargetType: targetType,
		TargetID:   targetID,
		Outcome:    wardline.OutcomeSuccess,
	}
	if a := wardline.ActorFromContext(ctx); a != nil {
		e.Addr = a.Addr
		if a.User != nil {
			e.ActorID, e.OrgID = a.User.ID, a.User.OrgID
		}
		if a.Session != nil {
			e.SessionID = a.Session.ID
		}
	}
	return e
}

// requireUser returns the signed-in user, or EUNAUTHENTICATED; a session with a restriction to
// clear first gets EFORBIDDEN (API.md "Authentication"), a locked one ELOCKED.
func requireUser(ctx context.Context) (*wardline.Actor, error) {
	return requireCaller(ctx, 0)
}

// allowance names the states of a session that a call accepts beyond a full, unlocked session.
type allowance uint8

const (
	allowPasswordChange allowance = 1 << iota // the session must change its password first
	allowEnrolment                            // the session must enrol a second factor first
	allowLocked                               // the session is locked
)

// requireCaller returns the signed-in actor when its session may make a call that accepts the
// given states. The password change comes before enrolment, and both before anything else.
func requireCaller(ctx context.Context, allow allowance) (*wardline.Actor, error) {
	a, err := requireSignedIn(ctx)
	if err != nil {
		return nil, err
	}
	s := a.Session
	if s == nil {
		return a, nil
	}
	if s.PasswordChangeRequired {
		if allow&allowPasswordChange == 0 {
			return nil, wardline.Errorf(wardline.EFORBIDDEN, "change your password first")
		}
	} else if s.MFAEnrollmentRequired && allow&allowEnrolment == 0 {
		return nil, wardline.Errorf(wardline.EFORBIDDEN, "set up a second factor first")
	}
	if s.Locked() && allow&allowLocked == 0 {
		return nil, wardline.Errorf(wardline.ELOCKED, "this session is locked; unlock it with your PIN or a passkey")
	}
	return a, nil
}

// requireAdmin returns the actor when they are an org admin.
func requireAdmin(ctx context.Context) (*wardline.Actor, error) {
	a, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if a.User.OrgRole != wardline.OrgRoleAdmin {
		return nil, wardline.Errorf(wardline.EFORBIDDEN, "only an organisation admin may do this")
	}
	return a, nil
}

func isNotFound(err error) bool { return wardline.ErrorCode(err) == wardline.ENOTFOUND }

// requireSignedIn accepts a restricted or locked session too: for the calls that clear
// restrictions, GET /me and logout.
func requireSignedIn(ctx context.Context) (*wardline.Actor, error) {
	a := wardline.ActorFromContext(ctx)
	if a == nil || a.User == nil {
		return nil, wardline.Errorf(wardline.EUNAUTHENTICATED, "sign in first")
	}
	if !a.User.Active() {
		return nil, wardline.Errorf(wardline.EUNAUTHENTICATED, "sign in first")
	}
	return a, nil
}
