package app

import (
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are argon2id's cost parameters.
type PasswordParams struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultPasswordParams follow OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): enough to make
// offline guessing expensive while a 2-core server still signs in dozens of people a second.
var DefaultPasswordParams = PasswordParams{Memory: 19 * 1024, Time: 2, Threads: 1}

// hashPassword returns a PHC-format argon2id hash.
func hashPassword(password string, p PasswordParams) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// checkPassword reports whether password matches a hash made by hashPassword, in constant time.
func checkPassword(password, hash string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// initialPasswordAlphabet leaves out characters that read alike (0/O, 1/l/I).
const initialPasswordAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"

// newInitialPassword returns a random password to hand to a new member of staff: four groups of
// five characters, about 100 bits, easy to read out over the phone.
func newInitialPassword() string {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%5 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(initialPasswordAlphabet[int(c)%len(initialPasswordAlphabet)])
	}
	return sb.String()
}

// validateNewPassword applies NIST SP 800-63B: at least 12 characters, no composition rules, and
// not a password attackers try first — one on the shipped list of common and breached
// passwords, that list's entries padded with digits and symbols or repeated, too few distinct
// characters, or the service's or the person's own name. context holds the person's email address
// and name.
func validateNewPassword(pw string, context ...string) error {
	n := len([]rune(pw))
	if n < 12 {
		return errInvalid("the new password must be at least 12 characters")
	}
	if n > 256 {
		return errInvalid("the new password must be at most 256 characters")
	}
	if guessable(pw, context...) {
		return errInvalid("the new password is too easy to guess: it is, or is made from, a password known to attackers or your own name; a few unrelated words make a good one")
	}
	return nil
}

// commonPasswordsText is zxcvbn's list of the most common passwords (49,233 entries, from
// Xato's corpus of 10 million leaked passwords), lower-cased, as packaged by npm's
// @zxcvbn-ts/language-common 4.1.3 (MIT licence: common-passwords.LICENSE).
//
//go:embed common-passwords.txt
var commonPasswordsText string

var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 50000)
	for _, p := range strings.Split(commonPasswordsText, "\n") {
		if p != "" {
			m[p] = struct{}{}
		}
	}
	return m
})

// IsCommonPassword reports whether pw (any case) is on the shipped list.
func IsCommonPassword(pw string) bool {
	_, ok := commonPasswords()[strings.ToLower(pw)]
	return ok
}

func guessable(pw string, context ...string) bool {
	lower := strings.ToLower(pw)
	list := commonPasswords()
	listed := func(s string) bool { _, ok := list[s]; return ok }
	if listed(lower) {
		return true
	}
	// A listed password with digits, symbols or spaces around it: "Password2024!".
	core := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	if utf8.RuneCountInString(core) >= 4 && listed(core) {
		return true
	}
	// Something repeated: "passwordpassword", "abcabcabcabc".
	if unit := repeatedUnit(lower); unit != "" && (utf8.RuneCountInString(unit) <= 4 || listed(unit)) {
		return true
	}
	// Too few distinct characters: "aaaaaaaaaaab", "121212121212".
	distinct := map[rune]bool{}
	for _, r := range lower {
		distinct[r] = true
	}
	if len(distinct) < 4 {
		return true
	}
	// The service's or the person's own name.
	words := []string{"wardline"}
	for _, c := range context {
		c = strings.ToLower(strings.TrimSpace(c))
		if local, _, ok := strings.Cut(c, "@"); ok {
			words = append(words, c, local)
		} else if c != "" {
			words = append(words, strings.Join(strings.Fields(c), ""))
		}
	}
	squashed := strings.Join(strings.Fields(core), "")
	for _, w := range words {
		if w != "" && (squashed == w || strings.Join(strings.Fields(lower), "") == w || (len(w) >= 8 && strings.Contains(lower, w))) {
			return true
		}
	}
	return false
}

// repeatedUnit returns the shortest string that s is two or more copies of, or "".
func repeatedUnit(s string) string {
	r := []rune(s)
	for p := 1; p <= len(r)/2; p++ {
		if len(r)%p != 0 {
			continue
		}
		ok := true
		for i := p; i < len(r) && ok; i++ {
			ok = r[i] == r[i-p]
		}
		if ok {
			return string(r[:p])
		}
	}
	return ""
}
