package keyring_test

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wardline/keyring"
)

func TestCreateMasterKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	m, err := keyring.CreateMasterKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Fatalf("mode %04o, want 0600", got)
	}
	if got := fmt.Sprint(m.Terms()); got != "[1]" {
		t.Fatalf("terms %s, want [1]", got)
	}
	content, _ := os.ReadFile(path)

	t.Run("ErrExists", func(t *testing.T) {
		if _, err := keyring.CreateMasterKeyFile(path); err == nil {
			t.Fatal("CreateMasterKeyFile overwrote an existing file")
		}
		if now, _ := os.ReadFile(path); string(now) != string(content) {
			t.Fatal("the existing file changed")
		}
	})

	t.Run("NoKeyInString", func(t *testing.T) {
		key := strings.Fields(lastLine(string(content)))[3]
		for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
			if s := fmt.Sprintf(format, m); strings.Contains(s, key) {
				t.Fatalf("%s prints the key: %s", format, s)
			}
		}
	})
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestLoadMasterKeys(t *testing.T) {
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	key2 := base64.StdEncoding.EncodeToString([]byte("fedcba9876543210fedcba9876543210"))
	write := func(t *testing.T, content string, mode os.FileMode) string {
		t.Helper()
		path := filepath.Join(t.TempDir(), "master.key")
		if err := os.WriteFile(path, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		return path
	}

	t.Run("OK", func(t *testing.T) {
		path := write(t, "# comment\n\nwardline-kek v1 1 "+key+"\n  wardline-kek v1 3 "+key2+"  \n", 0o600)
		m, err := keyring.LoadMasterKeys(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(m.Terms()); got != "[1 3]" {
			t.Fatalf("terms %s, want [1 3]", got)
		}
	})

	for _, mode := range []os.FileMode{0o640, 0o604, 0o644, 0o660, 0o666} {
		t.Run(fmt.Sprintf("ErrMode%04o", mode), func(t *testing.T) {
			_, err := keyring.LoadMasterKeys(write(t, "wardline-kek v1 1 "+key+"\n", mode))
			if err == nil || !strings.Contains(err.Error(), "chmod 600") {
				t.Fatalf("got %v, want a refusal telling to chmod 600", err)
			}
		})
	}

	short := base64.StdEncoding.EncodeToString(make([]byte, 31))
	long := base64.StdEncoding.EncodeToString(make([]byte, 33))
	zero := base64.StdEncoding.EncodeToString(make([]byte, 32))
	for name, content := range map[string]string{
		"ErrEmpty":        "",
		"ErrOnlyComments": "# nothing\n",
		"ErrMagic":        "wardline-kex v1 1 " + key,
		"ErrVersion":      "wardline-kek v2 1 " + key,
		"ErrFields":       "wardline-kek v1 1 " + key + " extra",
		"ErrNoKey":        "wardline-kek v1 1",
		"ErrTermZero":     "wardline-kek v1 0 " + key,
		"ErrTermText":     "wardline-kek v1 one " + key,
		"ErrTermOrder":    "wardline-kek v1 2 " + key + "\nwardline-kek v1 1 " + key2,
		"ErrTermRepeated": "wardline-kek v1 1 " + key + "\nwardline-kek v1 1 " + key2,
		"ErrBase64":       "wardline-kek v1 1 " + key[:len(key)-2] + "!!",
		"ErrShortKey":     "wardline-kek v1 1 " + short,
		"ErrLongKey":      "wardline-kek v1 1 " + long,
		"ErrZeroKey":      "wardline-kek v1 1 " + zero,
		"ErrRawKey":       "0123456789abcdef0123456789abcdef",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := keyring.LoadMasterKeys(write(t, content+"\n", 0o600))
			if err == nil {
				t.Fatal("malformed file loaded")
			}
			if strings.Contains(err.Error(), key) || strings.Contains(err.Error(), key2) || strings.Contains(err.Error(), "0123456789abcdef") {
				t.Fatalf("error shows key material: %v", err)
			}
		})
	}

	t.Run("ErrMissing", func(t *testing.T) {
		if _, err := keyring.LoadMasterKeys(filepath.Join(t.TempDir(), "none")); err == nil {
			t.Fatal("a missing file loaded")
		}
	})
}

func TestMasterKeyTerms(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "master.key")
	m, err := keyring.CreateMasterKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for want := 2; want <= 3; want++ {
		if got, err := m.AddTerm(); err != nil || got != want {
			t.Fatalf("AddTerm: %d, %v; want %d", got, err, want)
		}
	}
	check := func(want string) {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode %04o after rewrite, want 0600", fi.Mode().Perm())
		}
		reloaded, err := keyring.LoadMasterKeys(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(reloaded.Terms()); got != want || fmt.Sprint(m.Terms()) != want {
			t.Fatalf("terms in file %s, in memory %v; want %s", got, m.Terms(), want)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Fatalf("%d files in the key directory, want 1 (temporary files left behind?)", len(entries))
		}
	}
	check("[1 2 3]")

	if err := m.RetireTerm(3); err == nil {
		t.Fatal("the newest term was retired")
	}
	if err := m.RetireTerm(7); err == nil {
		t.Fatal("a term the file does not hold was retired")
	}
	if err := m.RetireTerm(2); err != nil {
		t.Fatal(err)
	}
	check("[1 3]")
	if got, err := m.AddTerm(); err != nil || got != 4 {
		t.Fatalf("AddTerm after retiring: %d, %v; want 4", got, err)
	}
	check("[1 3 4]")
}
