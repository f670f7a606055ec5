package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"wardline"
)

// authCache keeps SessionWithUser's answers, since every authenticated request asks it and a
// read on a pooled connection, after any commit, starts from an empty page cache: at full load
// that read was an eighth of the server's CPU.
//
// It is exact, not merely fresh enough: the store is the only writer of its database (`wardline
// serve` locks its data directory), and a pre-update hook on the write connection sees every row of
// sessions and users that changes, in any statement. The users it names are forgotten after
// the transaction ends and before any caller of that Update hears of it, so a revoked session
// or a suspended user is refused by the very next request. A read that overlapped an
// invalidation is not kept (gen), as it may have seen the row before the change. A lifetime
// (authCacheTTL) bounds what an unforeseen writer could leave stale.
type authCache struct {
	mu      sync.Mutex
	gen     uint64 // advanced by every invalidation
	byToken map[string]*authEntry
	byUser  map[string]map[string]struct{} // user id → token hashes cached for them

	// Owned by the writer goroutine: users whose sessions or own row changed in the transaction
	// being written, and whether a change could not be attributed (then everything goes).
	dirty    map[string]struct{}
	dirtyAll bool

	// Where the user's id is in a sessions row (user_id) and in a users row (id), read from the
	// schema when the store opens.
	sessionUserCol, userIDCol int
}

type authEntry struct {
	sess    wardline.Session
	user    wardline.User
	expires time.Time
}

const (
	authCacheTTL = 30 * time.Second
	authCacheMax = 100_000 // entries; past it the cache starts again empty
)

// newAuthCache makes the cache for the database on conn (the write connection).
func newAuthCache(ctx context.Context, conn *sql.Conn) (*authCache, error) {
	c := &authCache{
		byToken: map[string]*authEntry{},
		byUser:  map[string]map[string]struct{}{},
		dirty:   map[string]struct{}{},
	}
	for _, col := range []struct {
		table, name string
		cid         *int
	}{{"sessions", "user_id", &c.sessionUserCol}, {"users", "id", &c.userIDCol}} {
		if err := conn.QueryRowContext(ctx, `SELECT cid FROM pragma_table_info(?) WHERE name = ?`, col.table, col.name).Scan(col.cid); err != nil {
			return nil, fmt.Errorf("%s.%s: %w", col.table, col.name, err)
		}
	}
	err := conn.Raw(func(dc any) error {
		h, ok := dc.(interface {
			RegisterPreUpdateHook(msqlite.PreUpdateHookFn)
		})
		if !ok {
			return fmt.Errorf("driver connection %T has no pre-update hook", dc)
		}
		h.RegisterPreUpdateHook(c.changed)
		return nil
	})
	return c, err
}

// get returns copies of a cached session and its user, and the generation to hand to put when
// there is none.
func (c *authCache) get(hash []byte, now time.Time) (*wardline.Session, *wardline.User, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.byToken[string(hash)]
	if e == nil || now.After(e.expires) {
		return nil, nil, c.gen
	}
	sess, user := e.sess, e.user
	return &sess, &user, c.gen
}

// put keeps a session read from the database, unless an invalidation happened since gen.
func (c *authCache) put(gen uint64, sess *wardline.Session, user *wardline.User, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.byToken) >= authCacheMax {
		c.byToken, c.byUser = map[string]*authEntry{}, map[string]map[string]struct{}{}
	}
	key := string(sess.TokenHash)
	c.byToken[key] = &authEntry{sess: *sess, user: *user, expires: now.Add(authCacheTTL)}
	toks := c.byUser[user.ID]
	if toks == nil {
		toks = map[string]struct{}{}
		c.byUser[user.ID] = toks
	}
	toks[key] = struct{}{}
}

// changed is the write connection's pre-update hook: it notes whose session or user row a
// statement is about to change. It runs on the writer goroutine, inside the statement.
func (c *authCache) changed(d msqlite.SQLitePreUpdateData) {
	if d.Op == sqlite3.SQLITE_INSERT {
		return // a new row was in no earlier answer
	}
	var col int
	switch d.TableName {
	case "sessions":
		col = c.sessionUserCol
	case "users":
		col = c.userIDCol
	default:
		return
	}
	row := make([]any, col+1)
	err := d.Old(row...)
	id, ok := row[col].(string)
	if err != nil || !ok {
		c.dirtyAll = true
		return
	}
	c.dirty[id] = struct{}{}
}

// settle forgets what the transaction just ended may have changed. The writer calls it after
// COMMIT or ROLLBACK, before anyone waiting on the batch is answered.
func (c *authCache) settle() {
	if !c.dirtyAll && len(c.dirty) == 0 {
		return
	}
	c.mu.Lock()
	c.gen++
	if c.dirtyAll {
		c.byToken, c.byUser = map[string]*authEntry{}, map[string]map[string]struct{}{}
	} else {
		for id := range c.dirty {
			for key := range c.byUser[id] {
				delete(c.byToken, key)
			}
			delete(c.byUser, id)
		}
	}
	c.mu.Unlock()
	clear(c.dirty)
	c.dirtyAll = false
}

// SessionWithUser is the cached form of the read every authenticated request makes; inside a
// transaction (Tx) the read always goes to the database.
func (s *Store) SessionWithUser(ctx context.Context, hash []byte) (*wardline.Session, *wardline.User, error) {
	now := time.Now()
	cs, cu, gen := s.auth.get(hash, now)
	if cs != nil {
		return cs, cu, nil
	}
	sess, user, err := s.queries.SessionWithUser(ctx, hash)
	if err != nil {
		return nil, nil, err
	}
	s.auth.put(gen, sess, user, now)
	return sess, user, nil
}
