package auth

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

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
