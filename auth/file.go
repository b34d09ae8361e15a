package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// jsonFile is a JSON file of the data directory that a server and the
// command share: replaced whole under its lock file, and read again
// whenever another process has replaced it since it was last read.
type jsonFile struct {
	dir, name string
	what      string // what it holds, for errors: "users"
	limit     int64  // the most bytes it may hold
	seen      os.FileInfo
	// checked is when read last looked at the file.
	checked time.Time
}

// recheckEvery is how long a read may go on the version of the file last
// seen without looking at it again: a change another process makes (onemap
// users disable) takes effect within it, and a request costs no stat.
const recheckEvery = time.Second

// fileNow is the clock of recheckEvery; tests move it.
var fileNow = time.Now

// recent reports whether the file was looked at within recheckEvery.
func (f *jsonFile) recent() bool {
	return f.seen != nil && fileNow().Sub(f.checked) < recheckEvery
}

func (f *jsonFile) path() string { return filepath.Join(f.dir, f.name) }

// errorf is an error about the file's contents.
func (f *jsonFile) errorf(format string, args ...any) error {
	return fmt.Errorf("auth: %s: %s: %s", f.what, f.path(), fmt.Sprintf(format, args...))
}

// read decodes the file into v, unknown fields refused, unless it is the
// version last read (same). A missing file is version nil with v
// untouched. Once the caller has checked v, it marks the version read by
// setting f.seen to it.
func (f *jsonFile) read(ctx context.Context, v any) (fi os.FileInfo, same bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	fi, err = os.Stat(f.path())
	f.checked = fileNow()
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("auth: %s: %w", f.what, err)
	}
	if f.seen != nil && sameFile(fi, f.seen) {
		return fi, true, nil
	}
	data, fi, err := readFileBounded(f.path(), f.limit)
	if err != nil {
		return nil, false, fmt.Errorf("auth: %s: %w", f.what, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return nil, false, fmt.Errorf("auth: %s: %s: %w", f.what, f.path(), err)
	}
	return fi, false, nil
}

// lock takes the file's lock file, for a read, a change and a write.
func (f *jsonFile) lock() (unlock func(), err error) {
	unlock, err = lockFile(f.path() + ".lock")
	if err != nil {
		return nil, fmt.Errorf("auth: %s: lock: %w", f.what, err)
	}
	return unlock, nil
}

// write replaces the file by v, indented, and returns its new version.
func (f *jsonFile) write(ctx context.Context, v any) (os.FileInfo, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("auth: %s: %w", f.what, err)
	}
	if err := writeFileAtomic(ctx, f.dir, f.name, append(data, '\n')); err != nil {
		return nil, fmt.Errorf("auth: %s: write %s: %w", f.what, f.path(), err)
	}
	fi, err := os.Stat(f.path())
	if err != nil {
		return nil, fmt.Errorf("auth: %s: %w", f.what, err)
	}
	return fi, nil
}

// writeFileAtomic replaces dir/name by data, mode 0600: a temporary file in
// dir, written and fsynced, renamed over the old one, and dir fsynced, so a
// crash leaves the old file or the new one, never a part.
func writeFileAtomic(ctx context.Context, dir, name string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// syncDir fsyncs a directory, so a rename or a new file in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// readFileBounded reads path, refusing one over limit bytes. A missing file
// reads as nil with the error of os.Open.
func readFileBounded(path string, limit int64) ([]byte, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if fi.Size() > limit {
		return nil, nil, fmt.Errorf("%s: %d bytes, over the %d limit", path, fi.Size(), limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(data)) > limit {
		return nil, nil, fmt.Errorf("%s: over the %d byte limit", path, limit)
	}
	return data, fi, nil
}

// sameFile reports whether a and b describe the same version of a file:
// the same inode (a rename makes a new one), size and time.
func sameFile(a, b os.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}
