//go:build !linux

package wal

import "os"

// syncData flushes a segment's data and metadata.
func syncData(f *os.File) error { return f.Sync() }

// lockDir opens the lock file; other systems do not lock it.
func lockDir(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
}
