package attach_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/onemap/onemap/incident/attach"
	"github.com/onemap/onemap/incident/attach/attachtest"
)

func TestDir(t *testing.T) {
	attachtest.Run(t, func(t *testing.T, clock *attachtest.Clock, max int64) attach.Store {
		d, err := attach.NewDir(t.TempDir(), attach.Options{MaxSize: max, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

// TestDirLayout checks where the bytes go and that only their owner may
// read them.
func TestDirLayout(t *testing.T) {
	dataDir := t.TempDir()
	d, err := attach.NewDir(dataDir, attach.Options{})
	if err != nil {
		t.Fatal(err)
	}
	data := attachtest.PNG(1)
	a, err := d.Put(context.Background(), data, "image/png", "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dataDir, "attachments", a.ID[:2], a.ID)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 || st.Size() != int64(len(data)) {
		t.Errorf("%s: mode %v, size %d", path, st.Mode().Perm(), st.Size())
	}
	for _, dir := range []string{filepath.Dir(path), filepath.Join(dataDir, "attachments")} {
		if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v", dir, st.Mode().Perm(), err)
		}
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".tmp-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	// A second Dir on the same directory finds it.
	d2, err := attach.NewDir(dataDir, attach.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := d2.Get(context.Background(), a.ID); err != nil || len(got) != len(data) {
		t.Errorf("Get from a second Dir: %v", err)
	}
}

// TestDirDamaged checks that bytes changed on disk are not returned as the
// attachment.
func TestDirDamaged(t *testing.T) {
	dataDir := t.TempDir()
	d, _ := attach.NewDir(dataDir, attach.Options{})
	a, err := d.Put(context.Background(), attachtest.PNG(2), "", "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dataDir, "attachments", a.ID[:2], a.ID)
	if err := os.WriteFile(path, []byte("changed"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Get(context.Background(), a.ID); err == nil {
		t.Error("Get of changed bytes: no error")
	}
}
