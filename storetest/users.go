package storetest

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	"wardline"
)

func testUsers(t *testing.T, open opener) {
	t.Run("CreateUser", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			o := MustCreateOrg(t, s, "Northgate")
			u := NewUser(o.ID, "Alice Adeyemi")
			u.JobTitle, u.Profession, u.Registration = "Consultant Cardiologist", "Medicine", "GMC 1234567"
			u.OrgRole, u.PasswordChangeRequired = wardline.OrgRoleAdmin, true
			u.CreatedAt = at(42)
			MustCreateUsers(t, s, u)

			got, err := s.User(ctx, u.ID)
			if err != nil {
				t.Fatalf("User: %v", err)
			}
			AssertSame(t, "User", got, u)
			got, err = s.UserByOrgEmail(ctx, o.ID, u.Email)
			if err != nil {
				t.Fatalf("UserByOrgEmail: %v", err)
			}
			AssertSame(t, "UserByOrgEmail", got, u)
			all, err := s.UsersByEmail(ctx, u.Email)
			if err != nil || len(all) != 1 {
				t.Fatalf("UsersByEmail: got %d users, %v; want 1", len(all), err)
			}
			AssertSame(t, "UsersByEmail", all[0], u)
		})
		t.Run("ErrDuplicateEmail", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			o := MustCreateOrg(t, s, "Northgate")
			u := MustCreateUser(t, s, o.ID, "Alice Adeyemi")
			dup := NewUser(o.ID, "Alice Again")
			dup.Email = u.Email
			err := s.Update(ctx, func(tx wardline.Tx) error { return tx.CreateUser(ctx, dup) })
			AssertCode(t, err, wardline.ECONFLICT)
			if _, err := s.User(ctx, dup.ID); wardline.ErrorCode(err) != wardline.ENOTFOUND {
				t.Errorf("User(duplicate): got %v, want not found", err)
			}
		})
		// One person may work for two organisations under one address (bank staff, doctors on
		// rotation): each organisation has an account of its own, and neither refuses it.
		t.Run("SameEmailInAnotherOrg", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			north, south := MustCreateOrg(t, s, "Northgate"), MustCreateOrg(t, s, "Southgate")
			first := NewUser(south.ID, "Alice Adeyemi")
			first.CreatedAt = at(1)
			MustCreateUsers(t, s, first)
			second := NewUser(north.ID, "Alice Adeyemi")
			second.Email, second.CreatedAt = first.Email, at(2)
			MustCreateUsers(t, s, second)

			all, err := s.UsersByEmail(ctx, first.Email)
			if err != nil {
				t.Fatalf("UsersByEmail: %v", err)
			}
			if len(all) != 2 {
				t.Fatalf("UsersByEmail: got %d users, want 2", len(all))
			}
			AssertSame(t, "UsersByEmail[0] (the older)", all[0], first)
			AssertSame(t, "UsersByEmail[1]", all[1], second)
			for _, want := range []*wardline.User{first, second} {
				got, err := s.UserByOrgEmail(ctx, want.OrgID, want.Email)
				if err != nil {
					t.Fatalf("UserByOrgEmail(%s): %v", want.OrgID, err)
				}
				AssertSame(t, "UserByOrgEmail", got, want)
			}
			// An address change is refused only where the organisation has the address already.
			bob := MustCreateUser(t, s, north.ID, "Bob Byrne")
			changed := *bob
			changed.Email = first.Email
			err = s.Update(ctx, func(tx wardline.Tx) error { return tx.UpdateUser(ctx, &changed) })
			AssertCode(t, err, wardline.ECONFLICT)
			dave := MustCreateUser(t, s, south.ID, "Dave Dlamini")
			carol := MustCreateUser(t, s, north.ID, "Carol Chen")
			carol.Email = dave.Email // held in the other organisation only
			MustUpdate(t, s, func(tx wardline.Tx) error { return tx.UpdateUser(ctx, carol) })
			if got, err := s.UserByOrgEmail(ctx, north.ID, dave.Email); err != nil || got.ID != carol.ID {
				t.Errorf("UserByOrgEmail after the change: got %v, %v; want Carol", got, err)
			}
		})
	})

	t.Run("User", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			MustCreateUser(t, s, MustCreateOrg(t, s, "Northgate").ID, "Alice Adeyemi")
			_, err := s.User(ctx, wardline.NewID())
			AssertCode(t, err, wardline.ENOTFOUND)
		})
	})

	t.Run("UserByOrgEmail", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			north, south := MustCreateOrg(t, s, "Northgate"), MustCreateOrg(t, s, "Southgate")
			u := MustCreateUser(t, s, north.ID, "Alice Adeyemi")
			_, err := s.UserByOrgEmail(ctx, north.ID, "nobody@example.nhs.uk")
			AssertCode(t, err, wardline.ENOTFOUND)
			_, err = s.UserByOrgEmail(ctx, south.ID, u.Email) // another organisation's account
			AssertCode(t, err, wardline.ENOTFOUND)
			if all, err := s.UsersByEmail(ctx, "nobody@example.nhs.uk"); err != nil || len(all) != 0 {
				t.Errorf("UsersByEmail(unknown): got %d users, %v; want none", len(all), err)
			}
		})
	})

	t.Run("UpdateUser", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			o := MustCreateOrg(t, s, "Northgate")
			u, bob := NewUser(o.ID, "Alice Adeyemi"), NewUser(o.ID, "Bob Byrne")
			MustCreateUsers(t, s, u, bob)

			u.Email = "alice.adeyemi@northgate.nhs.uk"
			u.DisplayName, u.JobTitle, u.Profession, u.Registration = "Dr Alice Adeyemi", "Registrar", "Medicine", "GMC 7654321"
			u.OrgRole, u.Status = wardline.OrgRoleAuditor, wardline.UserSuspended
			u.PasswordHash, u.PasswordChangeRequired = "$argon2id$v=19$new", true
			MustUpdate(t, s, func(tx wardline.Tx) error { return tx.UpdateUser(ctx, u) })

			got, err := s.User(ctx, u.ID)
			if err != nil {
				t.Fatalf("User: %v", err)
			}
			AssertSame(t, "User", got, u)
			if got, err := s.User(ctx, bob.ID); err != nil {
				t.Fatalf("User(bob): %v", err)
			} else {
				AssertSame(t, "other User", got, bob)
			}
		})
		t.Run("ErrDuplicateEmail", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			o := MustCreateOrg(t, s, "Northgate")
			alice, bob := NewUser(o.ID, "Alice Adeyemi"), NewUser(o.ID, "Bob Byrne")
			MustCreateUsers(t, s, alice, bob)

			changed := *bob
			changed.Email = alice.Email
			err := s.Update(ctx, func(tx wardline.Tx) error { return tx.UpdateUser(ctx, &changed) })
			AssertCode(t, err, wardline.ECONFLICT)
			if got, err := s.User(ctx, bob.ID); err != nil {
				t.Fatalf("User: %v", err)
			} else {
				AssertSame(t, "User", got, bob)
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			u := NewUser(MustCreateOrg(t, s, "Northgate").ID, "Alice Adeyemi")
			err := s.Update(ctx, func(tx wardline.Tx) error { return tx.UpdateUser(ctx, u) })
			AssertCode(t, err, wardline.ENOTFOUND)
		})
	})
}

// findNames runs FindUsers with f and returns the display names found, sorted; it fails the test
// when there is a further page.
func findNames(t *testing.T, s wardline.Store, f wardline.UserFilter) []string {
	t.Helper()
	users, next, err := s.FindUsers(t.Context(), f)
	if err != nil {
		t.Fatalf("FindUsers(%+v): %v", f, err)
	}
	if next != "" {
		t.Errorf("FindUsers(%+v): got a next cursor, want none", f)
	}
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.DisplayName
	}
	sort.Strings(names)
	return names
}

func testFindUsers(t *testing.T, open opener) {
	t.Run("Query", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := MustCreateOrg(t, s, "Northgate")
		alice := NewUser(o.ID, "Alice Adeyemi")
		alice.JobTitle, alice.Profession = "Consultant Cardiologist", "Medicine"
		bob := NewUser(o.ID, "Bob Byrne")
		bob.JobTitle, bob.Profession = "Charge Nurse", "Nursing"
		carol := NewUser(o.ID, "Carol Chen")
		carol.JobTitle, carol.Profession = "Pharmacist", "Pharmacy"
		carol.Email = "c.chen@northgate.nhs.uk"
		MustCreateUsers(t, s, alice, bob, carol)

		for _, tt := range []struct {
			name, query string
			byEmail     bool
			want        []string
		}{
			{"Empty", "", false, []string{"Alice Adeyemi", "Bob Byrne", "Carol Chen"}},
			{"NameUpper", "ADEYEMI", false, []string{"Alice Adeyemi"}},
			{"NameLower", "bob b", false, []string{"Bob Byrne"}},
			{"NameInfix", "ro", false, []string{"Carol Chen"}},
			{"JobTitle", "cardiolog", false, []string{"Alice Adeyemi"}},
			{"Profession", "NURSING", false, []string{"Bob Byrne"}},
			{"SeveralFields", "pharm", false, []string{"Carol Chen"}},
			{"None", "radiographer", false, []string{}},
			// Email addresses are matched only when asked (admins' searches), never in the directory.
			{"Email", "C.CHEN@NORTHGATE", true, []string{"Carol Chen"}},
			{"EmailNotByDefault", "c.chen@northgate", false, []string{}},
			{"ByEmailStillByName", "adeyemi", true, []string{"Alice Adeyemi"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got := findNames(t, s, wardline.UserFilter{OrgID: o.ID, Query: tt.query, ByEmail: tt.byEmail})
				if !slices.Equal(got, tt.want) {
					t.Errorf("FindUsers(%q, ByEmail %v): got %q, want %q", tt.query, tt.byEmail, got, tt.want)
				}
			})
		}
	})

	// Case-insensitive means for every name a clinic has, not only ASCII ones: Élodie, Zoë, Ó Briain.
	t.Run("QueryNonASCIICase", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := MustCreateOrg(t, s, "Northgate")
		// Email addresses in ASCII, as they are in practice, so that only the names can match.
		elodie, siofra, elliot := NewUser(o.ID, "Élodie Durand"), NewUser(o.ID, "Síofra Ó Briain"), NewUser(o.ID, "Elliot Dunn")
		elodie.Email, siofra.Email, elliot.Email = "elodie.durand@example.nhs.uk", "siofra.obriain@example.nhs.uk", "elliot.dunn@example.nhs.uk"
		MustCreateUsers(t, s, elodie, siofra, elliot)
		for _, tt := range []struct{ query, want string }{
			{"élodie", "Élodie Durand"},
			{"ÉLODIE", "Élodie Durand"},
			{"Ó BRIAIN", "Síofra Ó Briain"},
			{"ó briain", "Síofra Ó Briain"},
			{"SÍOFRA", "Síofra Ó Briain"},
		} {
			got := findNames(t, s, wardline.UserFilter{OrgID: o.ID, Query: tt.query})
			if want := []string{tt.want}; !slices.Equal(got, want) {
				t.Errorf("FindUsers(%q): got %q, want %q", tt.query, got, want)
			}
		}
	})

	t.Run("QueryWildcardsLiteral", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := MustCreateOrg(t, s, "Northgate")
		MustCreateUsers(t, s, NewUser(o.ID, "Anna Under_score"), NewUser(o.ID, "Anna Underscore"),
			NewUser(o.ID, "Ben 100% Bank"), NewUser(o.ID, "Ben 100 Bank"), NewUser(o.ID, `Back\slash`))
		for _, tt := range []struct{ query, want string }{
			{"_", "Anna Under_score"},
			{"der_s", "Anna Under_score"},
			{"%", "Ben 100% Bank"},
			{"100%", "Ben 100% Bank"},
			{`\`, `Back\slash`},
		} {
			got := findNames(t, s, wardline.UserFilter{OrgID: o.ID, Query: tt.query})
			if want := []string{tt.want}; !slices.Equal(got, want) {
				t.Errorf("FindUsers(%q): got %q, want %q", tt.query, got, want)
			}
		}
	})

	t.Run("Status", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := MustCreateOrg(t, s, "Northgate")
		active, suspended, offboarded := NewUser(o.ID, "Ann Active"), NewUser(o.ID, "Sam Suspended"), NewUser(o.ID, "Olu Offboarded")
		suspended.Status, offboarded.Status = wardline.UserSuspended, wardline.UserOffboarded
		MustCreateUsers(t, s, active, suspended, offboarded)
		for _, tt := range []struct {
			status, query string
			want          []string
		}{
			{"", "", []string{"Ann Active", "Olu Offboarded", "Sam Suspended"}},
			{wardline.UserActive, "", []string{"Ann Active"}},
			{wardline.UserSuspended, "", []string{"Sam Suspended"}},
			{wardline.UserOffboarded, "", []string{"Olu Offboarded"}},
			{wardline.UserActive, "sam", []string{}},
			{wardline.UserSuspended, "sam", []string{"Sam Suspended"}},
		} {
			got := findNames(t, s, wardline.UserFilter{OrgID: o.ID, Status: tt.status, Query: tt.query})
			if !slices.Equal(got, tt.want) {
				t.Errorf("FindUsers(status %q, query %q): got %q, want %q", tt.status, tt.query, got, tt.want)
			}
		}
	})

	t.Run("OrgIsolation", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		north, south := MustCreateOrg(t, s, "Northgate"), MustCreateOrg(t, s, "Southgate")
		n1, n2 := NewUser(north.ID, "Jo Smith"), NewUser(north.ID, "Kim Jones")
		s1, s2 := NewUser(south.ID, "Jo Smith"), NewUser(south.ID, "Lee Smithers")
		MustCreateUsers(t, s, n1, n2, s1, s2)
		for _, tt := range []struct {
			org   *wardline.Org
			query string
			want  []string
		}{
			{north, "", []string{n1.ID, n2.ID}},
			{north, "smith", []string{n1.ID}},
			{south, "", []string{s1.ID, s2.ID}},
			{south, "smith", []string{s1.ID, s2.ID}},
			{south, "jones", nil},
		} {
			users, _, err := s.FindUsers(t.Context(), wardline.UserFilter{OrgID: tt.org.ID, Query: tt.query})
			if err != nil {
				t.Fatalf("FindUsers: %v", err)
			}
			got := ids(users, userID)
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("FindUsers(%s, %q): got %v, want %v", tt.org.Name, tt.query, got, want)
			}
			for _, u := range users {
				if u.OrgID != tt.org.ID {
					t.Errorf("FindUsers(%s, %q): got %s of another organisation", tt.org.Name, tt.query, u.DisplayName)
				}
			}
		}
	})

	t.Run("Pagination", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		o, other := MustCreateOrg(t, s, "Northgate"), MustCreateOrg(t, s, "Southgate")
		// 120 users, three to a name, so that page boundaries fall inside runs of equal names;
		// inserted in an order that is neither by name nor by id.
		var users []*wardline.User
		for i := range 120 {
			users = append(users, NewUser(o.ID, fmt.Sprintf("Nurse %02d", (i*7)%40)))
		}
		users = append(users, NewUser(other.ID, "Nurse 00"), NewUser(other.ID, "Nurse 99"))
		MustCreateUsers(t, s, users...)

		page := func(cursor string) ([]*wardline.User, string) {
			t.Helper()
			got, next, err := s.FindUsers(ctx, wardline.UserFilter{OrgID: o.ID, Cursor: cursor, Limit: 50})
			if err != nil {
				t.Fatalf("FindUsers(cursor %q): %v", cursor, err)
			}
			return got, next
		}
		var all []*wardline.User
		var sizes []int
		cursor := ""
		for {
			got, next := page(cursor)
			all = append(all, got...)
			sizes = append(sizes, len(got))
			if next == "" {
				break
			}
			if len(sizes) > 5 {
				t.Fatalf("FindUsers: still paging after %d pages", len(sizes))
			}
			cursor = next
		}
		if want := []int{50, 50, 20}; !slices.Equal(sizes, want) {
			t.Errorf("page sizes: got %v, want %v", sizes, want)
		}
		seen := map[string]bool{}
		for _, u := range all {
			if seen[u.ID] {
				t.Errorf("user %s (%s) on two pages", u.ID, u.DisplayName)
			}
			seen[u.ID] = true
			if u.OrgID != o.ID {
				t.Errorf("user %s of another organisation listed", u.ID)
			}
		}
		for _, u := range users[:120] {
			if !seen[u.ID] {
				t.Errorf("user %s (%s) on no page", u.ID, u.DisplayName)
			}
		}
		for i := 1; i < len(all); i++ {
			if all[i-1].DisplayName > all[i].DisplayName {
				t.Errorf("order: %q listed before %q, want by display name", all[i-1].DisplayName, all[i].DisplayName)
			}
		}
		// Paging again gives the same order: the order is stable.
		again, _ := page("")
		if got, want := ids(again, userID), ids(all[:50], userID); !slices.Equal(got, want) {
			t.Errorf("first page again: got %v, want %v", got, want)
		}
	})

	t.Run("ErrInvalidCursor", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		o := MustCreateOrg(t, s, "Northgate")
		MustCreateUser(t, s, o.ID, "Alice Adeyemi")
		for _, cursor := range []string{"not a cursor!", "Zm9v", "%%%"} {
			_, _, err := s.FindUsers(ctx, wardline.UserFilter{OrgID: o.ID, Cursor: cursor})
			AssertCode(t, err, wardline.EINVALID)
		}
	})
}
