package directory

import (
	"context"
	"fmt"
	"os"
)

// Store is where the directory in force comes from.
type Store interface {
	// Directory returns the directory in force.
	Directory(ctx context.Context) (*Directory, error)
}

// FileStore reads the directory from a directory.json file, or gives the
// embedded sample (Default) when Path is "".
type FileStore struct {
	Path string
}

// Directory reads and checks the file at s.Path on every call, so that an
// edited file is taken up without a restart; Default when Path is "".
func (s FileStore) Directory(ctx context.Context) (*Directory, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.Path == "" {
		return Default(), nil
	}
	f, err := os.Open(s.Path)
	if err != nil {
		return nil, fmt.Errorf("directory: open: %w", err)
	}
	defer f.Close()
	d, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Path, err)
	}
	return d, nil
}
