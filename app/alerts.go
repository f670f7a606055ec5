package app

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"wardline"
)

// Alerts watches the audit log as it is written and raises an alert when a pattern an
// organisation asked to hear about appears (wardline.AlertKinds). Committed entries arrive
// through observe, after their commit; observe only queues the few actions that matter, so the
// hot path (sends) pays a switch on the action and nothing more. One goroutine keeps the counts
// in memory (sliding one-hour windows per person, per address), and on start rebuilds them from
// the last hour of the log. Alerts are stored with an audit entry of their own and pushed to the
// organisation's auditors.
//
// With several nodes on one store (Config.SharedAuditLog) a node's own commits are only part of
// the log, so each node instead tails the whole log from the store, in its order: every node
// sees the same entries in the same order and keeps the same counts, and failed sign-ins spread
// over three nodes add up as they would on one. Every node that sees a threshold crossed tries to
// store the alert under an id derived from what it is about and the entry that tripped it; the
// store takes the first and refuses the rest, so exactly one node raises and tells the auditors.
type Alerts struct {
	d      *deps
	shared bool  // tail the log from the store rather than count this node's commits
	cursor int64 // shared: the last log seq counted

	mu    sync.Mutex
	queue []*wardline.AuditEvent
	wake  chan struct{}
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	start sync.Once

	proc     sync.Mutex // held while entries are processed: the state below is its
	policies map[string]*orgAlertPolicy
	windows  map[string]*window // counting key → recent items
	raised   map[string]time.Time
}

// window holds the items seen under one key with the last time each was seen.
type window struct {
	items map[string]time.Time
	total map[string]int // for sums (exported items), keyed like items
}

type orgAlertPolicy struct {
	p          wardline.AlertPolicy
	loc        *time.Location
	start, end int
	loaded     time.Time
}

const alertWindow = time.Hour

// alertTailInterval is how often a node of a cluster reads the log for entries other nodes wrote.
const alertTailInterval = time.Second

func newAlerts(d *deps) *Alerts {
	return &Alerts{d: d, shared: d.config.SharedAuditLog, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		policies: map[string]*orgAlertPolicy{}, windows: map[string]*window{}, raised: map[string]time.Time{}}
}

// relevantToAlerts is the filter of the hot path: a switch on the action, no allocation.
func relevantToAlerts(e *wardline.AuditEvent) bool {
	if e.OrgID == "" {
		return false
	}
	switch e.Action {
	case wardline.ActionHistoryRead, wardline.ActionResumeReplayed, wardline.ActionTranscriptExport,
		wardline.ActionLoginSucceeded, wardline.ActionLoginFailed:
		return true
	}
	return e.TargetType == "patient" || wardline.ExportActions[e.Action]
}

// observe queues a committed entry. It runs in the store's after-commit hooks: it must not block.
func (x *Alerts) observe(e *wardline.AuditEvent) {
	if !x.shared { // shared: the entry is read back with the others' from the store
		x.mu.Lock()
		x.queue = append(x.queue, e)
		x.mu.Unlock()
	}
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

// Start rebuilds the counts from the last hour of the log and the alerts raised lately, then
// processes entries as they come, until Close.
func (x *Alerts) Start(ctx context.Context) error {
	var err error
	x.start.Do(func() {
		if err = x.rebuild(ctx); err != nil {
			return
		}
		go x.loop()
	})
	return err
}

func (x *Alerts) rebuild(ctx context.Context) error {
	x.proc.Lock()
	defer x.proc.Unlock()
	now := x.d.now()
	since := now.Add(-alertWindow)
	after := int64(0)
	// Checkpoints are made every minute with their time: the one before the window says where
	// in the log the window begins, without an index on time.
	if cp, err := x.d.store.AuditCheckpointBefore(ctx, since); err == nil {
		after = cp.Size
	} else if !isNotFound(err) {
		return err
	}
	through, err := x.read(ctx, after, func(e *wardline.AuditEvent) {
		if !e.At.Before(since) {
			x.count(ctx, e, false)
		}
	})
	if err != nil {
		return err
	}
	x.cursor = through
	for cursor := ""; ; {
		alerts, next, err := x.d.store.Alerts(ctx, wardline.AlertFilter{Since: now.Add(-24 * time.Hour), Cursor: cursor, Limit: 1000})
		if err != nil {
			return err
		}
		for _, a := range alerts {
			if k := alertKey(a); a.At.After(x.raised[k]) {
				x.raised[k] = a.At
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return nil
}

func (x *Alerts) loop() {
	defer close(x.done)
	var tick <-chan time.Time
	if x.shared {
		t := time.NewTicker(alertTailInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-x.stop:
			x.Drain(context.Background())
			return
		case <-x.wake:
		case <-tick:
		}
		x.Drain(context.Background())
	}
}

// Drain processes every queued entry now, in the caller's goroutine. Tests call it to see the
// alerts of what they just did without waiting.
func (x *Alerts) Drain(ctx context.Context) {
	x.proc.Lock()
	defer x.proc.Unlock()
	if x.shared {
		x.tail(ctx)
		return
	}
	for {
		x.mu.Lock()
		batch := x.queue
		x.queue = nil
		x.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		for _, e := range batch {
			for _, a := range x.count(ctx, e, true) {
				x.raise(ctx, a)
			}
		}
	}
}

// tail counts the entries written since the last call, by any node, in log order.
func (x *Alerts) tail(ctx context.Context) {
	through, err := x.read(ctx, x.cursor, func(e *wardline.AuditEvent) {
		for _, a := range x.count(ctx, e, true) {
			x.raise(ctx, a)
		}
	})
	if err != nil {
		x.d.log.Warn("read the audit log for alerts", "err", err)
	}
	x.cursor = through // on an error, where it got to: the next tick goes on from there
}

// read hands fn every entry after seq after that the alerts count, in log order, reading only
// those (alertActions, or a patient's record) rather than every message sent, and returns the
// seq it read through.
func (x *Alerts) read(ctx context.Context, after int64, fn func(*wardline.AuditEvent)) (int64, error) {
	for {
		page, through, err := x.d.store.AuditEventsMatching(ctx, after, alertActions, "patient", 2000)
		if err != nil {
			return after, err
		}
		for _, e := range page {
			if relevantToAlerts(e) {
				fn(e)
			}
		}
		after = through
		if len(page) < 2000 {
			return after, nil
		}
	}
}

// alertActions are the actions relevantToAlerts looks at, besides any entry about a patient.
var alertActions = func() []string {
	out := []string{wardline.ActionHistoryRead, wardline.ActionResumeReplayed, wardline.ActionTranscriptExport,
		wardline.ActionLoginSucceeded, wardline.ActionLoginFailed}
	for a := range wardline.ExportActions {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}()

// Close stops the loop after processing what is queued.
func (x *Alerts) Close() {
	x.once.Do(func() { close(x.stop) })
	started := true
	x.start.Do(func() { started = false })
	if started {
		<-x.done
	} else {
		x.Drain(context.Background())
	}
}

func (x *Alerts) policy(ctx context.Context, orgID string) *orgAlertPolicy {
	now := x.d.now()
	if p, ok := x.policies[orgID]; ok && now.Sub(p.loaded) < time.Minute {
		return p
	}
	pol := wardline.DefaultAlertPolicy
	if org, err := x.d.store.Org(ctx, orgID); err == nil {
		pol = org.Policy.Normalize().Alerts
	} else if old, ok := x.policies[orgID]; ok {
		pol = old.p // keep what we had while the store is unavailable
	}
	p := &orgAlertPolicy{p: pol, loaded: now}
	var err error
	if p.start, p.end, err = wardline.ParseWorkingHours(pol.WorkingHours); err != nil {
		p.start, p.end, _ = wardline.ParseWorkingHours(wardline.DefaultAlertPolicy.WorkingHours)
	}
	if p.loc, err = time.LoadLocation(pol.TimeZone); err != nil {
		p.loc = time.UTC
	}
	x.policies[orgID] = p
	return p
}

// PolicyChanged drops a cached policy, so that a change applies to the next entry.
func (x *Alerts) PolicyChanged(orgID string) {
	x.proc.Lock()
	delete(x.policies, orgID)
	x.proc.Unlock()
}

// note adds item at t under key and returns how many distinct items the last hour holds.
func (x *Alerts) note(key, item string, t time.Time, amount int) (distinct, sum int) {
	w := x.windows[key]
	if w == nil {
		w = &window{items: map[string]time.Time{}, total: map[string]int{}}
		x.windows[key] = w
	}
	if last, ok := w.items[item]; !ok || t.After(last) {
		w.items[item] = t
	}
	w.total[item] += amount
	cut := t.Add(-alertWindow)
	for k, at := range w.items {
		if !at.After(cut) {
			delete(w.items, k)
			delete(w.total, k)
		}
	}
	for _, n := range w.total {
		sum += n
	}
	if len(w.items) == 0 {
		delete(x.windows, key)
	}
	return len(w.items), sum
}

// count takes one entry into the counts and returns the alerts it trips. During the rebuild
// (live false) its answer is ignored and nothing is written: an alert is raised only for what
// happens while running.
func (x *Alerts) count(ctx context.Context, e *wardline.AuditEvent, live bool) []*wardline.Alert {
	p := x.policy(ctx, e.OrgID)
	var out []*wardline.Alert
	target := ""
	trip := func(kind string, count, threshold int, user, addr, msg string) {
		if !live || !p.p.Enabled(kind) || count < threshold {
			return
		}
		out = append(out, &wardline.Alert{OrgID: e.OrgID, Kind: kind, At: e.At, UserID: user, Addr: addr,
			TargetID: target, Count: count, Threshold: threshold, AuditSeq: e.Seq, Message: msg})
	}
	success := e.Outcome == wardline.OutcomeSuccess
	who := e.OrgID + "\x00" + e.ActorID
	contentRead := false
	switch {
	case e.Action == wardline.ActionLoginFailed:
		if e.TargetID != "" {
			n, _ := x.note("fail-user\x00"+e.OrgID+"\x00"+e.TargetID, e.ID, e.At, 1)
			trip(wardline.AlertFailedSignIns, n, p.p.FailedSignInsAccount, e.TargetID, e.Addr,
				fmt.Sprintf("%d failed sign-ins for this account within an hour", n))
		}
		if e.Addr != "" {
			n, _ := x.note("fail-addr\x00"+e.OrgID+"\x00"+e.Addr, e.ID, e.At, 1)
			trip(wardline.AlertFailedSignInsAddr, n, p.p.FailedSignInsAddress, "", e.Addr,
				fmt.Sprintf("%d failed sign-ins to this organisation's accounts from one address within an hour", n))
		}
	case e.Action == wardline.ActionLoginSucceeded:
		if success {
			x.offHours(p, e, trip)
			if dev, _ := e.Detail[wardline.DetailDevice].(string); dev != "" && live {
				target = dev
				x.newDevice(ctx, p, e, dev, trip)
				target = ""
			}
		}
	case e.Action == wardline.ActionHistoryRead && success:
		contentRead = true
		n, _ := x.note("convs\x00"+who, e.ConversationID, e.At, 0)
		trip(wardline.AlertManyConversations, n, p.p.ConversationsPerHour, e.ActorID, e.Addr,
			fmt.Sprintf("%d conversations read within an hour", n))
	case e.Action == wardline.ActionResumeReplayed && success:
		contentRead = true
		ranges, _ := e.Detail["ranges"].(map[string]any)
		convs := make([]string, 0, len(ranges))
		for c := range ranges {
			convs = append(convs, c)
		}
		sort.Strings(convs)
		n := 0
		for _, c := range convs {
			n, _ = x.note("convs\x00"+who, c, e.At, 0)
		}
		if len(convs) > 0 {
			trip(wardline.AlertManyConversations, n, p.p.ConversationsPerHour, e.ActorID, e.Addr,
				fmt.Sprintf("%d conversations read within an hour", n))
		}
	case e.TargetType == "patient" && success:
		contentRead = true
		patient := e.TargetID
		n, _ := x.note("patients\x00"+who, patient, e.At, 0)
		trip(wardline.AlertManyPatients, n, p.p.PatientsPerHour, e.ActorID, e.Addr,
			fmt.Sprintf("%d patients' records read within an hour", n))
		if g, ok := e.Detail[wardline.DetailPatientAccess].(string); ok && g != wardline.PatientAccessMember {
			target = patient
			trip(wardline.AlertPatientNoConv, 1, 1, e.ActorID, e.Addr,
				"a patient's record was read by someone in no conversation about that patient (grounds: "+g+")")
			target = ""
		}
	}
	if wardline.ExportActions[e.Action] && success {
		items := 0
		switch v := e.Detail[wardline.DetailCount].(type) {
		case float64:
			items = int(v)
		case int:
			items = v
		case int64:
			items = int(v)
		}
		_, sum := x.note("exports\x00"+who, e.ID, e.At, items)
		trip(wardline.AlertBulkExport, sum, p.p.ExportItemsPerHour, e.ActorID, e.Addr,
			fmt.Sprintf("%d items exported within an hour", sum))
		contentRead = true
	}
	if contentRead {
		x.offHours(p, e, trip)
	}
	return out
}

func (x *Alerts) offHours(p *orgAlertPolicy, e *wardline.AuditEvent, trip func(string, int, int, string, string, string)) {
	if e.ActorID == "" || wardline.WithinWorkingHours(e.At, p.loc, p.start, p.end) {
		return
	}
	trip(wardline.AlertOffHours, 1, 1, e.ActorID, e.Addr, fmt.Sprintf("%s at %s, outside working hours (%s %s)",
		e.Action, e.At.In(p.loc).Format("15:04"), p.p.WorkingHours, p.p.TimeZone))
}

// newDevice records the sign-in's device and trips when the person had others but not this one.
// Sign-ins are few, so a write here is not on the hot path; the first device is not "new".
func (x *Alerts) newDevice(ctx context.Context, p *orgAlertPolicy, e *wardline.AuditEvent, dev string, trip func(string, int, int, string, string, string)) {
	var added bool
	var before int
	err := x.d.store.Update(ctx, func(tx wardline.Tx) error {
		var err error
		added, before, err = tx.AddKnownDevice(ctx, e.ActorID, dev, e.At)
		return err
	})
	if err != nil {
		x.d.log.Warn("record sign-in device", "err", err)
		return
	}
	if added && before > 0 {
		trip(wardline.AlertNewDevice, before+1, 1, e.ActorID, e.Addr, "sign-in from a device not seen for this person before: "+dev)
	}
}

// raise stores an alert with its audit entry and tells the organisation's auditors, unless the
// same alert (kind, person or address) was raised within the organisation's cool-down.
func (x *Alerts) raise(ctx context.Context, a *wardline.Alert) {
	p := x.policy(ctx, a.OrgID)
	key := alertKey(a)
	if last, ok := x.raised[key]; ok && a.At.Sub(last) < time.Duration(p.p.CooldownMinutesPerKey)*time.Minute {
		return
	}
	// The cool-down runs from the entry that tripped, whether or not this node stores the alert:
	// so every node of a cluster, counting the same log, starts the same cool-downs.
	x.raised[key] = a.At
	a.ID = uuid.NewSHA1(alertIDSpace, []byte(key+"\x00"+strconv.FormatInt(a.AuditSeq, 10))).String()
	ev := &wardline.AuditEvent{ID: wardline.NewID(), At: x.d.now(), OrgID: a.OrgID, Action: wardline.ActionAlertRaised,
		TargetType: "alert", TargetID: a.ID, Outcome: wardline.OutcomeSuccess,
		Detail: map[string]any{"kind": a.Kind, "user_id": a.UserID, "count": a.Count, "threshold": a.Threshold, "audit_seq": a.AuditSeq}}
	if err := x.d.store.Update(ctx, func(tx wardline.Tx) error {
		if err := tx.InsertAlert(ctx, a); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	}); wardline.ErrorCode(err) == wardline.ECONFLICT {
		return // another node raised it
	} else if err != nil {
		x.d.log.Error("store alert", "kind", a.Kind, "err", err)
		return
	}
	auditors, err := x.d.store.UsersWithRole(ctx, a.OrgID, wardline.OrgRoleAuditor)
	if err != nil {
		x.d.log.Warn("find auditors for alert", "err", err)
		return
	}
	if len(auditors) > 0 {
		x.d.publish(ctx, &wardline.Event{Type: wardline.EventAlert, Recipients: auditors, Alert: a})
	}
}

// alertIDSpace is the UUID namespace of alert ids: an alert's id is derived from its key and the
// log entry that tripped it, so that nodes counting the same log name the same alert the same way.
var alertIDSpace = uuid.MustParse("6f1d3c52-8a0e-4b7e-9a51-3f0c2d9e7b44")

// alertKey names what one alert is about, for the cool-down: each device, each patient apart.
func alertKey(a *wardline.Alert) string {
	return a.OrgID + "\x00" + a.Kind + "\x00" + a.UserID + "\x00" + a.Addr + "\x00" + a.TargetID
}
