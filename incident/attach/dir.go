package attach

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

var _ Store = (*Dir)(nil)

// Dir keeps attachments as files: the bytes of each at
// <dataDir>/attachments/<first 2 hex digits>/<id>, its description beside
// them in <id>.json. Each is written to a temporary file, synced and
// renamed, so a crash leaves either the whole file or none; files are
// 0600, directories 0700. It is safe for concurrent use.
type Dir struct {
	root string
	opt  Options
	mu   sync.Mutex // serialises writers of one process
}

// NewDir returns the Dir under dataDir, creating its directory.
func NewDir(dataDir string, opt Options) (*Dir, error) {
	root := filepath.Join(dataDir, "attachments")
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("attach: %w", err)
	}
	return &Dir{root: root, opt: opt.WithDefaults()}, nil
}

func (d *Dir) paths(id string) (dir, data, meta string) {
	dir = filepath.Join(d.root, id[:2])
	return dir, filepath.Join(dir, id), filepath.Join(dir, id+".json")
}

// Put checks data and writes it unless the same bytes are kept already.
func (d *Dir) Put(ctx context.Context, data []byte, contentType, by string) (Attachment, error) {
	typ, err := Check(data, contentType, by, d.opt.MaxSize)
	if err != nil {
		return Attachment{}, err
	}
	if err := ctx.Err(); err != nil {
		return Attachment{}, err
	}
	id := ID(data)
	d.mu.Lock()
	defer d.mu.Unlock()
	if a, err := d.meta(id); err == nil {
		return a, nil
	} else if !errors.Is(err, ErrNotFound) {
		return Attachment{}, err
	}
	a := Attachment{ID: id, Type: typ, Size: int64(len(data)), Created: d.opt.Now().UTC(), By: by}
	meta, err := json.Marshal(a)
	if err != nil {
		return Attachment{}, fmt.Errorf("attach: %w", err)
	}
	dir, dataPath, metaPath := d.paths(id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Attachment{}, fmt.Errorf("attach: %w", err)
	}
	// The bytes first: an attachment is there once its description is.
	if err := writeFile(dir, dataPath, data); err != nil {
		return Attachment{}, err
	}
	if err := writeFile(dir, metaPath, meta); err != nil {
		return Attachment{}, err
	}
	return a, nil
}

// Get reads the attachment with id.
func (d *Dir) Get(ctx context.Context, id string) (Attachment, []byte, error) {
	if err := CheckID(id); err != nil {
		return Attachment{}, nil, err
	}
	if err := ctx.Err(); err != nil {
		return Attachment{}, nil, err
	}
	a, err := d.meta(id)
	if err != nil {
		return Attachment{}, nil, err
	}
	_, dataPath, _ := d.paths(id)
	f, err := os.Open(dataPath)
	if err != nil {
		return Attachment{}, nil, fmt.Errorf("attach: %s: %w", id, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxMaxSize+1))
	if err != nil {
		return Attachment{}, nil, fmt.Errorf("attach: %s: %w", id, err)
	}
	if int64(len(data)) != a.Size || ID(data) != id {
		return Attachment{}, nil, fmt.Errorf("attach: %s: the file does not match its id", id)
	}
	return a, data, nil
}

// meta reads the description of id; ErrNotFound when there is none.
func (d *Dir) meta(id string) (Attachment, error) {
	_, _, metaPath := d.paths(id)
	b, err := os.ReadFile(metaPath)
	if errors.Is(err, fs.ErrNotExist) {
		return Attachment{}, fmt.Errorf("attach: %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Attachment{}, fmt.Errorf("attach: %s: %w", id, err)
	}
	var a Attachment
	if err := json.Unmarshal(b, &a); err != nil || a.ID != id {
		return Attachment{}, fmt.Errorf("attach: %s: unreadable description", id)
	}
	return a, nil
}

// writeFile writes data to a temporary file in dir, syncs it, renames it
// to path and syncs dir.
func writeFile(dir, path string, data []byte) error {
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("attach: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("attach: sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	ok = true
	df, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	defer df.Close()
	if err := df.Sync(); err != nil {
		return fmt.Errorf("attach: sync %s: %w", dir, err)
	}
	return nil
}
