package storetest

import (
	"maps"
	"slices"
	"testing"
	"time"

	"wardline"
)

func mustConversation(t *testing.T, s wardline.Store, id string) *wardline.Conversation {
	t.Helper()
	c, err := s.Conversation(t.Context(), id)
	if err != nil {
		t.Fatalf("Conversation: %v", err)
	}
	return c
}

func testConversations(t *testing.T, open opener) {
	t.Run("CreateConversation", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := MustCreateFixture(t, s)
			dave := MustCreateUser(t, s, f.Org.ID, "Dave Dlamini")
			patient := wardline.NewID()
			c := &wardline.Conversation{
				ID: wardline.NewID(), OrgID: f.Org.ID, Kind: wardline.KindChannel, CreatedAt: at(10), CreatedBy: f.Alice.ID,
				LastActivityAt: at(10), PatientID: &patient, TitleSealed: []byte{0, 1, 2, 0xff, 'W', 'a', 'r', 'd', ' ', '9'},
				// Inserted, and with ids, in another order than the one in which they joined; they
				// come back in that order.
				Members: []*wardline.Member{
					{UserID: f.Alice.ID, Role: wardline.MemberOwner, JoinedAt: at(10)},
					{UserID: f.Bob.ID, Role: wardline.MemberOwner, JoinedAt: at(30)},
					{UserID: dave.ID, Role: wardline.MemberMember, JoinedAt: at(20)},
				},
			}
			MustCreateConversations(t, s, c)

			want := *c
			want.Members = []*wardline.Member{c.Members[0], c.Members[2], c.Members[1]}
			// Members come back named as the directory names them.
			got := mustConversation(t, s, c.ID)
			if got.Members[1].DisplayName != "Dave Dlamini" {
				t.Errorf("member name: got %q, want %q", got.Members[1].DisplayName, "Dave Dlamini")
			}
			AssertSame(t, "Conversation", got, WithDirectoryNames(t, s, &want))
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			MustCreateFixture(t, s)
			_, err := s.Conversation(t.Context(), wardline.NewID())
			AssertCode(t, err, wardline.ENOTFOUND)
		})
	})

	t.Run("DirectConversation", func(t *testing.T) {
		directKey := func(a, b *wardline.User) string { return a.ID + ":" + b.ID }
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			c := NewConversation(f.Org.ID, wardline.KindDirect, at(5), f.Alice.ID, f.Bob.ID)
			c.DirectKey, c.TitleSealed = directKey(f.Alice, f.Bob), nil
			other := NewConversation(f.Org.ID, wardline.KindDirect, at(6), f.Alice.ID, f.Carol.ID)
			other.DirectKey = directKey(f.Alice, f.Carol)
			MustCreateConversations(t, s, c, other)

			got, err := s.DirectConversation(ctx, f.Org.ID, c.DirectKey)
			if err != nil {
				t.Fatalf("DirectConversation: %v", err)
			}
			AssertSame(t, "DirectConversation", got, WithDirectoryNames(t, s, c))
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			c := NewConversation(f.Org.ID, wardline.KindDirect, at(5), f.Alice.ID, f.Bob.ID)
			c.DirectKey = directKey(f.Alice, f.Bob)
			MustCreateConversations(t, s, c)
			other := MustCreateOrg(t, s, "Southgate")

			_, err := s.DirectConversation(ctx, f.Org.ID, directKey(f.Alice, f.Carol))
			AssertCode(t, err, wardline.ENOTFOUND)
			_, err = s.DirectConversation(ctx, other.ID, c.DirectKey)
			AssertCode(t, err, wardline.ENOTFOUND)
			_, err = s.DirectConversation(ctx, f.Org.ID, "")
			AssertCode(t, err, wardline.ENOTFOUND)
		})
		t.Run("ErrDuplicate", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			first := NewConversation(f.Org.ID, wardline.KindDirect, at(5), f.Alice.ID, f.Bob.ID)
			first.DirectKey = directKey(f.Alice, f.Bob)
			MustCreateConversations(t, s, first)

			second := NewConversation(f.Org.ID, wardline.KindDirect, at(6), f.Bob.ID, f.Alice.ID)
			second.DirectKey = first.DirectKey
			err := s.Update(ctx, func(tx wardline.Tx) error { return tx.CreateConversation(ctx, second) })
			AssertCode(t, err, wardline.ECONFLICT)
			if _, err := s.Conversation(ctx, second.ID); wardline.ErrorCode(err) != wardline.ENOTFOUND {
				t.Errorf("Conversation(second): got %v, want not found", err)
			}
			if got, err := s.DirectConversation(ctx, f.Org.ID, first.DirectKey); err != nil || got.ID != first.ID {
				t.Errorf("DirectConversation: got %v, %v, want the first", got, err)
			}
		})
		t.Run("SameKeyOtherOrg", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			other := MustCreateOrg(t, s, "Southgate")
			x, y := MustCreateUser(t, s, other.ID, "Xena Xu"), MustCreateUser(t, s, other.ID, "Yusuf Yilmaz")
			c := NewConversation(f.Org.ID, wardline.KindDirect, at(5), f.Alice.ID, f.Bob.ID)
			d := NewConversation(other.ID, wardline.KindDirect, at(5), x.ID, y.ID)
			c.DirectKey, d.DirectKey = "same-key", "same-key"
			MustCreateConversations(t, s, c, d)
			if got, err := s.DirectConversation(ctx, other.ID, "same-key"); err != nil || got.ID != d.ID {
				t.Errorf("DirectConversation(other org): got %v, %v, want %s", got, err, d.ID)
			}
		})
		// Groups and channels have no direct key; any number of them may exist.
		t.Run("GroupsHaveNoKey", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			f := MustCreateFixture(t, s)
			MustCreateConversations(t, s,
				NewConversation(f.Org.ID, wardline.KindGroup, at(1), f.Alice.ID, f.Bob.ID),
				NewConversation(f.Org.ID, wardline.KindGroup, at(2), f.Alice.ID, f.Bob.ID),
				NewConversation(f.Org.ID, wardline.KindChannel, at(3), f.Alice.ID, f.Bob.ID))
		})
	})

	t.Run("ConversationsOf", func(t *testing.T) {
		t.Run("Paging", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			dave := MustCreateUser(t, s, f.Org.ID, "Dave Dlamini")
			// Seven conversations of Dave's; the oldest becomes the most recently active through a
			// message, and two share an activity time across the boundary of the first page.
			activity := []int{1, 6, 5, 5, 4, 2, 3}
			var convs []*wardline.Conversation
			for _, sec := range activity {
				convs = append(convs, NewConversation(f.Org.ID, wardline.KindGroup, at(sec), dave.ID, f.Bob.ID))
			}
			notDaves := NewConversation(f.Org.ID, wardline.KindGroup, at(50), f.Bob.ID, f.Carol.ID)
			MustCreateConversations(t, s, append(slices.Clone(convs), notDaves)...)
			MustSendMessages(t, s, convs[0].ID, f.Bob.ID, 1, at(100))

			var pages [][]*wardline.Conversation
			cursor := ""
			for {
				page, next, err := s.ConversationsOf(ctx, dave.ID, cursor, 3)
				if err != nil {
					t.Fatalf("ConversationsOf: %v", err)
				}
				pages = append(pages, page)
				if next == "" || len(pages) > 4 {
					break
				}
				cursor = next
			}
			var sizes []int
			var all []*wardline.Conversation
			for _, p := range pages {
				sizes = append(sizes, len(p))
				all = append(all, p...)
			}
			if want := []int{3, 3, 1}; !slices.Equal(sizes, want) {
				t.Errorf("page sizes: got %v, want %v", sizes, want)
			}
			got := ids(all, convID)
			if len(got) > 0 && got[0] != convs[0].ID {
				t.Errorf("first: got %s, want %s, the conversation with the latest message", got[0], convs[0].ID)
			}
			if !slices.IsSortedFunc(all, func(a, b *wardline.Conversation) int { return b.LastActivityAt.Compare(a.LastActivityAt) }) {
				t.Errorf("not most recently active first: %v", got)
			}
			sortedGot, want := slices.Clone(got), ids(convs, convID)
			slices.Sort(sortedGot)
			slices.Sort(want)
			if !slices.Equal(sortedGot, want) {
				t.Errorf("ConversationsOf: got %v, want each of %v once", got, want)
			}
			for _, c := range all {
				if len(c.Members) != 2 {
					t.Errorf("conversation %s: got %d members, want 2", c.ID, len(c.Members))
				}
			}
		})
		// A cursor is a position like any other, whatever the times involved: paging through
		// conversations last active before 1970 (imported, or never stamped) must still end.
		t.Run("PagingBeforeEpoch", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			dave := MustCreateUser(t, s, f.Org.ID, "Dave Dlamini")
			old := time.Date(1969, time.December, 31, 23, 0, 0, 0, time.UTC)
			var convs []*wardline.Conversation
			for i := range 3 {
				convs = append(convs, NewConversation(f.Org.ID, wardline.KindGroup, old.Add(time.Duration(i)*time.Minute), dave.ID))
			}
			MustCreateConversations(t, s, convs...)
			var got []string
			cursor := ""
			for range 5 {
				page, next, err := s.ConversationsOf(ctx, dave.ID, cursor, 2)
				if err != nil {
					t.Fatalf("ConversationsOf: %v", err)
				}
				got = append(got, ids(page, convID)...)
				if next == "" {
					break
				}
				cursor = next
			}
			if want := []string{convs[2].ID, convs[1].ID, convs[0].ID}; !slices.Equal(got, want) {
				t.Errorf("ConversationsOf, pages of 2: got %v, want %v", got, want)
			}
		})
		t.Run("UnreadCount", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			// seq 1 Bob, 2 Alice, 3 Bob, 4 Bob (deleted), 5 Bob; Alice has read up to 1.
			senders := []*wardline.User{f.Bob, f.Alice, f.Bob, f.Bob, f.Bob}
			MustUpdate(t, s, func(tx wardline.Tx) error {
				for i, u := range senders {
					seq, err := tx.NextSeq(ctx, f.Conv.ID, at(i))
					if err != nil {
						return err
					}
					m := NewMessage(f.Conv.ID, u.ID, seq, at(i))
					m.Deleted = seq == 4
					if err := tx.InsertMessage(ctx, m); err != nil {
						return err
					}
				}
				_, err := tx.AdvanceWatermark(ctx, f.Conv.ID, f.Alice.ID, wardline.ReceiptRead, 1, at(10))
				return err
			})
			// Delivered is not read.
			MustUpdate(t, s, func(tx wardline.Tx) error {
				_, err := tx.AdvanceWatermark(ctx, f.Conv.ID, f.Carol.ID, wardline.ReceiptDelivered, 5, at(10))
				return err
			})
			for _, tt := range []struct {
				user *wardline.User
				want int64
			}{
				{f.Alice, 2}, // 3 and 5: after her watermark, by others, not deleted
				{f.Bob, 1},   // 2
				{f.Carol, 4}, // 1, 2, 3, 5
			} {
				got, err := s.UnreadCount(ctx, f.Conv.ID, tt.user.ID)
				if err != nil || got != tt.want {
					t.Errorf("UnreadCount(%s): got %d, %v, want %d", tt.user.DisplayName, got, err, tt.want)
				}
				convs, _, err := s.ConversationsOf(ctx, tt.user.ID, "", 10)
				if err != nil || len(convs) != 1 {
					t.Fatalf("ConversationsOf(%s): got %d conversations, %v, want 1", tt.user.DisplayName, len(convs), err)
				}
				if got := convs[0].UnreadCount; got != tt.want {
					t.Errorf("ConversationsOf(%s).UnreadCount: got %d, want %d", tt.user.DisplayName, got, tt.want)
				}
				if got := convs[0].LastSeq; got != 5 {
					t.Errorf("ConversationsOf(%s).LastSeq: got %d, want 5", tt.user.DisplayName, got)
				}
			}
		})
		t.Run("None", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			dave := MustCreateUser(t, s, f.Org.ID, "Dave Dlamini")
			got, next, err := s.ConversationsOf(ctx, dave.ID, "", 10)
			if err != nil || len(got) != 0 || next != "" {
				t.Errorf("ConversationsOf: got %d conversations, next %q, %v, want none", len(got), next, err)
			}
		})
		t.Run("ErrInvalidCursor", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			for _, cursor := range []string{"not a cursor!", "Zm9v"} {
				_, _, err := s.ConversationsOf(ctx, f.Alice.ID, cursor, 10)
				AssertCode(t, err, wardline.EINVALID)
			}
		})
	})

	t.Run("Memberships", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		second := NewConversation(f.Org.ID, wardline.KindDirect, at(1), f.Alice.ID, f.Bob.ID)
		carols := NewConversation(f.Org.ID, wardline.KindGroup, at(2), f.Carol.ID)
		MustCreateConversations(t, s, second, carols)
		MustSendMessages(t, s, f.Conv.ID, f.Bob.ID, 3, at(10))
		MustSendMessages(t, s, carols.ID, f.Carol.ID, 2, at(10))

		got, err := s.Memberships(ctx, f.Alice.ID)
		if err != nil {
			t.Fatalf("Memberships: %v", err)
		}
		if want := map[string]int64{f.Conv.ID: 3, second.ID: 0}; !maps.Equal(got, want) {
			t.Errorf("Memberships(alice): got %v, want %v", got, want)
		}
		MustUpdate(t, s, func(tx wardline.Tx) error { return tx.RemoveMember(ctx, f.Conv.ID, f.Alice.ID) })
		got, err = s.Memberships(ctx, f.Alice.ID)
		if want := map[string]int64{second.ID: 0}; err != nil || !maps.Equal(got, want) {
			t.Errorf("Memberships(alice) after leaving: got %v, %v, want %v", got, err, want)
		}
		dave := MustCreateUser(t, s, f.Org.ID, "Dave Dlamini")
		if got, err := s.Memberships(ctx, dave.ID); err != nil || len(got) != 0 {
			t.Errorf("Memberships of a user in none: got %v, %v, want none", got, err)
		}
	})

	t.Run("IsMember", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		dave := MustCreateUser(t, s, f.Org.ID, "Dave Dlamini")
		for _, tt := range []struct {
			name, conv, user string
			want             bool
		}{
			{"Owner", f.Conv.ID, f.Alice.ID, true},
			{"Member", f.Conv.ID, f.Bob.ID, true},
			{"NotMember", f.Conv.ID, dave.ID, false},
			{"NoConversation", wardline.NewID(), f.Alice.ID, false},
		} {
			if got, err := s.IsMember(ctx, tt.conv, tt.user); err != nil || got != tt.want {
				t.Errorf("IsMember(%s): got %v, %v, want %v", tt.name, got, err, tt.want)
			}
		}
	})

	t.Run("MemberIDs", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		f := MustCreateFixture(t, s)
		got, err := s.MemberIDs(ctx, f.Conv.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := f.Conv.MemberIDs()
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("MemberIDs: got %v, want %v (in id order)", got, want)
		}
		MustUpdate(t, s, func(tx wardline.Tx) error { return tx.RemoveMember(ctx, f.Conv.ID, f.Bob.ID) })
		if got, _ := s.MemberIDs(ctx, f.Conv.ID); slices.Contains(got, f.Bob.ID) || len(got) != len(want)-1 {
			t.Errorf("MemberIDs after a removal: got %v", got)
		}
		if got, err := s.MemberIDs(ctx, wardline.NewID()); err != nil || len(got) != 0 {
			t.Errorf("MemberIDs of no conversation: got %v, %v", got, err)
		}
	})
}

func testMembers(t *testing.T, open opener) {
	t.Run("AddMember", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			dave := MustCreateUser(t, s, f.Org.ID, "Dave Dlamini")
			m := &wardline.Member{UserID: dave.ID, Role: wardline.MemberMember, JoinedAt: at(60)}
			MustUpdate(t, s, func(tx wardline.Tx) error { return tx.AddMember(ctx, f.Conv.ID, m) })

			want := *f.Conv
			want.Members = append(slices.Clone(f.Conv.Members), m)
			AssertSame(t, "Conversation", mustConversation(t, s, f.Conv.ID), WithDirectoryNames(t, s, &want))
			if ok, err := s.IsMember(ctx, f.Conv.ID, dave.ID); err != nil || !ok {
				t.Errorf("IsMember: got %v, %v, want true", ok, err)
			}
		})
		t.Run("ErrDuplicate", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			err := s.Update(ctx, func(tx wardline.Tx) error {
				return tx.AddMember(ctx, f.Conv.ID, &wardline.Member{UserID: f.Bob.ID, Role: wardline.MemberOwner, JoinedAt: at(60)})
			})
			AssertCode(t, err, wardline.ECONFLICT)
			AssertSame(t, "Conversation", mustConversation(t, s, f.Conv.ID), WithDirectoryNames(t, s, f.Conv))
		})
	})

	t.Run("RemoveMember", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			MustUpdate(t, s, func(tx wardline.Tx) error { return tx.RemoveMember(ctx, f.Conv.ID, f.Bob.ID) })

			if got, want := ids(mustConversation(t, s, f.Conv.ID).Members, memberID), []string{f.Alice.ID, f.Carol.ID}; !slices.Equal(got, want) {
				t.Errorf("members: got %v, want %v", got, want)
			}
			if ok, err := s.IsMember(ctx, f.Conv.ID, f.Bob.ID); err != nil || ok {
				t.Errorf("IsMember: got %v, %v, want false", ok, err)
			}
			if got, _, err := s.ConversationsOf(ctx, f.Bob.ID, "", 10); err != nil || len(got) != 0 {
				t.Errorf("ConversationsOf(removed member): got %d, %v, want none", len(got), err)
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			dave := MustCreateUser(t, s, f.Org.ID, "Dave Dlamini")
			err := s.Update(ctx, func(tx wardline.Tx) error { return tx.RemoveMember(ctx, f.Conv.ID, dave.ID) })
			AssertCode(t, err, wardline.ENOTFOUND)
			err = s.Update(ctx, func(tx wardline.Tx) error { return tx.RemoveMember(ctx, wardline.NewID(), f.Bob.ID) })
			AssertCode(t, err, wardline.ENOTFOUND)
		})
	})

	t.Run("SetMemberRole", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			MustUpdate(t, s, func(tx wardline.Tx) error {
				if err := tx.SetMemberRole(ctx, f.Conv.ID, f.Bob.ID, wardline.MemberOwner); err != nil {
					return err
				}
				return tx.SetMemberRole(ctx, f.Conv.ID, f.Alice.ID, wardline.MemberMember)
			})
			c := mustConversation(t, s, f.Conv.ID)
			for _, tt := range []struct {
				user *wardline.User
				want string
			}{{f.Alice, wardline.MemberMember}, {f.Bob, wardline.MemberOwner}, {f.Carol, wardline.MemberMember}} {
				if got := c.MemberRole(tt.user.ID); got != tt.want {
					t.Errorf("role of %s: got %q, want %q", tt.user.DisplayName, got, tt.want)
				}
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s, ctx := open(t), t.Context()
			f := MustCreateFixture(t, s)
			dave := MustCreateUser(t, s, f.Org.ID, "Dave Dlamini")
			err := s.Update(ctx, func(tx wardline.Tx) error { return tx.SetMemberRole(ctx, f.Conv.ID, dave.ID, wardline.MemberOwner) })
			AssertCode(t, err, wardline.ENOTFOUND)
		})
	})
}
