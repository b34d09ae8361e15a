package main

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/onemap/onemap/auth"
)

// The parts of a data directory a backup holds.
const (
	backupManifest = "onemap-backup.json"
	checkpointsDir = "checkpoints"
)

// accountFiles are the files of people, device tokens and the audit log a
// data directory may hold beside the journal. Each is replaced whole by a
// rename or only appended to, so a copy of what is there when it is opened
// is consistent; an audit line cut short is cut at the next open.
var accountFiles = []string{auth.UsersFile, auth.TokensFile, auth.AuditFile}

// manifest describes a backup.
type manifest struct {
	Taken      time.Time `json:"taken"`
	Checkpoint string    `json:"checkpoint,omitempty"`
	Segments   []string  `json:"segments"`
	// Incidents are the segments of the incident journal, kept whole.
	Incidents []string `json:"incidents,omitempty"`
	Accounts  []string `json:"accounts,omitempty"`
	Bytes     int64    `json:"bytes"`
}

// runBackup writes a consistent copy of a data directory, which a server
// may be using, to a gzipped tar file.
func runBackup(args []string, stdout, stderr io.Writer) error {
	dataDir, out := defaultConfig().DataDir, ""
	fs := flag.NewFlagSet("onemap backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&dataDir, "data-dir", dataDir, "the server's data directory (ONEMAP_DATA_DIR)")
	fs.StringVar(&out, "out", out, "the backup file to write, e.g. onemap-backup.tar.gz")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if out == "" {
		return errors.New("backup: --out FILE is required")
	}
	m, err := backup(dataDir, out)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backed up %s to %s: %d segment(s), checkpoint %q, %d bytes\n", dataDir, out, len(m.Segments), m.Checkpoint, m.Bytes)
	return nil
}

// backup copies the newest checkpoint, then the journal segments: the
// server keeps the journal from the older of its two latest checkpoints
// on, so the segments listed after the checkpoint is opened hold everything
// after it. Files are opened before they are read, so a checkpoint or a
// segment the server removes meanwhile is still read whole; the segment
// being written is copied as far as it was written, and the cut is a torn
// write that the next start cuts off.
func backup(dataDir, out string) (*manifest, error) {
	jdir := journalDir(dataDir)
	if _, err := os.Stat(jdir); err != nil {
		return nil, fmt.Errorf("%s holds no journal: %w", dataDir, err)
	}
	m := &manifest{Taken: time.Now().UTC(), Segments: []string{}}
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	var names []string
	if cps, err := filepath.Glob(filepath.Join(dataDir, checkpointsDir, "*.checkpoint")); err == nil && len(cps) > 0 {
		slices.Sort(cps)
		f, err := os.Open(cps[len(cps)-1])
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		m.Checkpoint = path.Join(checkpointsDir, filepath.Base(cps[len(cps)-1]))
		names = append(names, m.Checkpoint)
	}
	segs, err := filepath.Glob(filepath.Join(jdir, "*.wal"))
	if err != nil {
		return nil, err
	}
	slices.Sort(segs)
	for _, p := range segs {
		f, err := os.Open(p)
		if errors.Is(err, os.ErrNotExist) {
			continue // pruned since listed: a later checkpoint covers it
		}
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		name := path.Join("journal", filepath.Base(p))
		m.Segments = append(m.Segments, name)
		names = append(names, name)
	}
	// The incident journal is never pruned; a segment being written is cut
	// as the live journal's is.
	isegs, err := filepath.Glob(filepath.Join(incidentDir(dataDir), "*.wal"))
	if err != nil {
		return nil, err
	}
	slices.Sort(isegs)
	for _, p := range isegs {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		name := path.Join(incidentsDir, filepath.Base(p))
		m.Incidents = append(m.Incidents, name)
		names = append(names, name)
	}
	for _, name := range accountFiles {
		f, err := os.Open(filepath.Join(dataDir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		m.Accounts = append(m.Accounts, name)
		names = append(names, name)
	}

	tmp := out + ".tmp"
	w, err := os.Create(tmp)
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	for i, f := range files {
		fi, err := f.Stat()
		if err != nil {
			w.Close()
			return nil, err
		}
		size := fi.Size()
		mode := int64(0o644)
		if slices.Contains(accountFiles, names[i]) {
			mode = 0o600
		}
		if err := tw.WriteHeader(&tar.Header{Name: names[i], Mode: mode, Size: size, ModTime: fi.ModTime(), Typeflag: tar.TypeReg}); err != nil {
			w.Close()
			return nil, err
		}
		n, err := io.Copy(tw, io.NewSectionReader(f, 0, size))
		if err != nil || n != size {
			w.Close()
			return nil, fmt.Errorf("copy %s: %d of %d bytes: %v", names[i], n, size, err)
		}
		m.Bytes += size
	}
	mb, _ := json.MarshalIndent(m, "", "  ")
	err = tw.WriteHeader(&tar.Header{Name: backupManifest, Mode: 0o644, Size: int64(len(mb)), ModTime: m.Taken, Typeflag: tar.TypeReg})
	if err == nil {
		_, err = tw.Write(mb)
	}
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = w.Sync()
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, out)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// runRestore brings a backup back into a data directory that is new or
// empty.
func runRestore(args []string, stdout, stderr io.Writer) error {
	dataDir := ""
	fs := flag.NewFlagSet("onemap restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&dataDir, "data-dir", dataDir, "the data directory to restore into: new or empty")
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if file == "" || dataDir == "" {
		return errors.New("restore: say onemap restore FILE --data-dir DIR")
	}
	m, err := restore(file, dataDir)
	if err != nil {
		// The directory was empty: leave it so.
		os.RemoveAll(journalDir(dataDir))
		os.RemoveAll(incidentDir(dataDir))
		os.RemoveAll(filepath.Join(dataDir, checkpointsDir))
		for _, name := range accountFiles {
			os.Remove(filepath.Join(dataDir, name))
		}
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stdout, "restored %s into %s: the backup of %s, %d segment(s), checkpoint %q\n", file, dataDir, m.Taken.Format(time.RFC3339), len(m.Segments), m.Checkpoint)
	return nil
}

// restore extracts a backup into dataDir, refusing a directory that holds
// anything and any entry that is not a part of a data directory.
func restore(file, dataDir string) (*manifest, error) {
	if ents, err := os.ReadDir(dataDir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("%s is not empty: restore into a new directory", dataDir)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s is not an onemap backup: %w", file, err)
	}
	tr := tar.NewReader(zr)
	var m *manifest
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if h.Name == backupManifest {
			m = &manifest{}
			if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(m); err != nil {
				return nil, fmt.Errorf("%s: manifest: %w", file, err)
			}
			continue
		}
		dir, base := path.Split(h.Name)
		ok := h.Typeflag == tar.TypeReg && base != "" && !strings.ContainsAny(base, `/\`) && !strings.HasPrefix(base, ".") &&
			((dir == "journal/" || dir == incidentsDir+"/") && strings.HasSuffix(base, ".wal") || dir == checkpointsDir+"/" && strings.HasSuffix(base, ".checkpoint") ||
				dir == "" && slices.Contains(accountFiles, base))
		if !ok {
			return nil, fmt.Errorf("%s: %q is not a part of a data directory", file, h.Name)
		}
		dst := filepath.Join(dataDir, filepath.FromSlash(h.Name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, err
		}
		mode := os.FileMode(0o644)
		if dir == "" {
			mode = 0o600 // people's password hashes, token hashes, the audit log
		}
		w, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if err != nil {
			return nil, err
		}
		_, err = io.Copy(w, tr)
		if err == nil {
			err = w.Sync()
		}
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", file, h.Name, err)
		}
	}
	if m == nil {
		return nil, fmt.Errorf("%s has no %s: not an onemap backup", file, backupManifest)
	}
	return m, nil
}
