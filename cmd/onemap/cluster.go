package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onemap/onemap/cluster"
	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/store"
	"github.com/onemap/onemap/store/postgis"
)

// sharedLive is the live state's Shared over a cluster node: readings
// batches of one partition each in the readings stream, decisions in the
// history stream, ownership by partition lease.
type sharedLive struct {
	node *cluster.Node
	// live is set once the instance has followed both streams to their
	// ends: before, no batch is decided here, its owner having decided it.
	live atomic.Bool
}

// readingsPerMessage bounds the readings of one message: 2,000 of at
// most some 80 bytes stay well under a megabyte.
const readingsPerMessage = 2000

// PublishReadings stores the readings, by partition, each partition's in
// messages of their own, all at once; it returns once the stream has every
// one. A message's id is a digest of its readings, so that a batch sent
// again within the stream's window is stored once.
func (sl *sharedLive) PublishReadings(ctx context.Context, rs []live.Reading) error {
	var parts [cluster.Partitions][]live.Reading
	for _, r := range rs {
		p := cluster.Partition(r.Sensor)
		parts[p] = append(parts[p], r)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for p, prs := range parts {
		for len(prs) > 0 {
			n := min(len(prs), readingsPerMessage)
			payload := live.EncodeReadings(prs[:n])
			prs = prs[n:]
			wg.Go(func() {
				if err := sl.node.PublishReadings(ctx, p, payload, cluster.MsgID(digest(payload))); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

// PublishEvents stores decisions in the history stream. A rules version
// put at start is named by its number and file, so that instances starting
// together put it once.
func (sl *sharedLive) PublishEvents(ctx context.Context, evs []live.HistoryEvent) error {
	payload, err := live.EncodeEvents(evs)
	if err != nil {
		return err
	}
	id := digest(payload)
	if len(evs) == 1 && evs[0].Kind == live.EventRules && evs[0].Note == "start" {
		id = "rules-" + strconv.FormatUint(evs[0].RuleVersion, 10) + "-" + digest(evs[0].Rules)
	}
	_, err = sl.node.PublishHistory(ctx, payload, cluster.MsgID(id))
	return err
}

// Owns reports whether this instance holds the sensor's partition.
func (sl *sharedLive) Owns(sensor uint64) bool { return sl.node.Owner().Owns(sensor) }

// AlarmID returns the first id above after whose remainder by the
// partitions is the sensor's partition: owners of different partitions
// never give the same.
func (sl *sharedLive) AlarmID(sensor, after uint64) uint64 {
	const n = cluster.Partitions
	p := uint64(cluster.Partition(sensor))
	id := after + 1
	return id + (p+n-id%n)%n
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// joinCluster joins the cluster --nats names, for a live state that will
// share through it (see followCluster).
//
// A NATS cluster starting with the instances elects its leaders meanwhile:
// Join is tried again, for up to joinWithin.
func joinCluster(ctx context.Context, cfg Config, log *slog.Logger) (*cluster.Node, *sharedLive, error) {
	// The readings stream holds a day (or the retention, when shorter): a
	// restart reads it from the instance's checkpoint, PostGIS keeps the rest.
	o := cluster.Options{URL: cfg.NATS, Name: cfg.NATSName, Replicas: cfg.NATSReplicas,
		ReadingsMaxAge: min(cfg.Retention, 24*time.Hour), ReadingsMaxBytes: int64(cfg.NATSReadingsGB) << 30, Log: log}
	deadline := time.Now().Add(joinWithin)
	for attempt := 1; ; attempt++ {
		node, err := cluster.Join(ctx, o)
		if err == nil {
			return node, &sharedLive{node: node}, nil
		}
		if errors.Is(err, cluster.ErrBadOptions) || ctx.Err() != nil || time.Now().After(deadline) {
			return nil, nil, fmt.Errorf("--nats: %w", err)
		}
		log.Warn("cluster: not joined yet; trying again", "err", err, "attempt", attempt)
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(min(time.Duration(attempt)*500*time.Millisecond, 5*time.Second)):
		}
	}
}

// joinWithin bounds how long serve tries to join the cluster.
const joinWithin = 2 * time.Minute

// followCluster brings the live state up to date with the cluster's
// streams, the decisions first, and keeps it there until ctx is done:
// readings of the partitions this instance holds are decided here, the
// others applied as their owners decided them. Each partition this
// instance takes over is reconciled once the decisions stored before are
// applied. It returns once the state has caught up.
func followCluster(ctx context.Context, sl *sharedLive, svc *live.Service, dataDir string, log *slog.Logger) error {
	start := time.Now()
	node := sl.node
	from, err := restoreCheckpoint(ctx, sl, svc, dataDir, log)
	if err != nil {
		return err
	}
	err = node.Follow(ctx, cluster.HistoryStream, from.Decisions, func(m cluster.Message) {
		// A message that cannot be read is passed over, and counted as
		// applied, so that a takeover does not wait for it.
		evs, err := live.DecodeEvents(m.Data)
		if err != nil {
			log.Error("cluster: a message of decisions not read", "seq", m.Seq, "err", err)
		}
		if err := svc.ApplyEvents(m.Seq, evs, m.Own); err != nil {
			log.Error("cluster: a message of decisions not applied", "seq", m.Seq, "err", err)
		}
	})
	if err != nil {
		return fmt.Errorf("follow the decisions: %w", err)
	}
	readings := 0
	err = node.Follow(ctx, cluster.ReadingsStream, from.Readings, func(m cluster.Message) {
		p, err := strconv.Atoi(strings.TrimPrefix(m.Subject, cluster.ReadingsSubject+"."))
		if err != nil || p < 0 || p >= cluster.Partitions {
			log.Error("cluster: a readings message of no partition", "seq", m.Seq, "subject", m.Subject)
			return
		}
		rs, err := live.DecodeReadings(m.Data)
		if err != nil {
			log.Error("cluster: a readings message not read", "seq", m.Seq, "err", err)
			return
		}
		readings += len(rs)
		done, owned := node.Owner().Hold(p)
		if owned && !sl.live.Load() {
			done()
			owned = false
		}
		if err := svc.ApplyReadings(ctx, m.Seq, rs, owned); err != nil {
			log.Error("cluster: decisions not stored", "partition", p, "err", err)
		}
		if owned {
			done()
		}
	})
	if err != nil {
		return fmt.Errorf("follow the readings: %w", err)
	}
	if err := svc.Joined(ctx); err != nil {
		return err
	}
	sl.live.Store(true)
	log.Info("cluster: live state caught up", "decisions", svc.Position().Decisions, "readings", readings,
		"from_checkpoint", from != live.SharedPos{}, "took", time.Since(start).Round(time.Millisecond))

	// The watcher may not block: gains wait in a set for one goroutine.
	var mu sync.Mutex
	var gained [cluster.Partitions]bool
	wake := make(chan struct{}, 1)
	cancel := node.Owner().Watch(func(p int, owned bool) {
		mu.Lock()
		gained[p] = gained[p] || owned
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	context.AfterFunc(ctx, cancel)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-wake:
			}
			mu.Lock()
			ps := gained
			gained = [cluster.Partitions]bool{}
			mu.Unlock()
			var taken []int
			for p, ok := range ps {
				if !ok {
					continue
				}
				if err := takeOver(ctx, sl, svc, p); err != nil {
					if ctx.Err() == nil {
						log.Error("cluster: partition not reconciled", "partition", p, "err", err)
					}
					continue
				}
				taken = append(taken, p)
			}
			if len(taken) > 0 {
				log.Info("cluster: partitions taken over", "partitions", taken)
			}
		}
	}()
	return nil
}

// The checkpoint of a cluster instance's live state, in its data
// directory: checkpointMagic, where the state stands in the readings and
// the history streams (8 bytes each, little-endian), the CRC-32C of what
// follows, and the state as live.Service.SharedCheckpoint encodes it.
const (
	checkpointFile  = "cluster.ckpt"
	checkpointMagic = "ONEMAPCK"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// saveCheckpoint writes the live state's checkpoint: to a new file, synced,
// then renamed over the last.
func saveCheckpoint(svc *live.Service, dataDir string) (int, error) {
	data, pos, err := svc.SharedCheckpoint()
	if err != nil {
		return 0, err
	}
	b := make([]byte, 0, len(checkpointMagic)+20+len(data))
	b = append(b, checkpointMagic...)
	b = binary.LittleEndian.AppendUint64(b, pos.Readings)
	b = binary.LittleEndian.AppendUint64(b, pos.Decisions)
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(data, castagnoli))
	b = append(b, data...)
	path := filepath.Join(dataDir, checkpointFile)
	f, err := os.CreateTemp(dataDir, checkpointFile+".*")
	if err != nil {
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	return len(b), nil
}

// restoreCheckpoint reads the live state back from the data directory's
// checkpoint and returns where to follow the streams from; with none, or
// one the streams do not hold (a cluster made anew), from their start.
func restoreCheckpoint(ctx context.Context, sl *sharedLive, svc *live.Service, dataDir string, log *slog.Logger) (live.SharedPos, error) {
	path := filepath.Join(dataDir, checkpointFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return live.SharedPos{}, nil
	}
	if err != nil {
		return live.SharedPos{}, fmt.Errorf("checkpoint: %w", err)
	}
	n := len(checkpointMagic)
	if len(b) < n+20 || string(b[:n]) != checkpointMagic || binary.LittleEndian.Uint32(b[n+16:]) != crc32.Checksum(b[n+20:], castagnoli) {
		log.Warn("cluster: the checkpoint is damaged: the streams are read from their start", "file", path)
		return live.SharedPos{}, nil
	}
	pos := live.SharedPos{Readings: binary.LittleEndian.Uint64(b[n:]), Decisions: binary.LittleEndian.Uint64(b[n+8:])}
	last, err := sl.node.LastSeq(ctx, cluster.HistoryStream)
	if err != nil {
		return live.SharedPos{}, err
	}
	if pos.Decisions > last {
		log.Warn("cluster: the checkpoint is past the history stream, made anew since: the streams are read from their start",
			"checkpoint", pos.Decisions, "stream", last)
		return live.SharedPos{}, nil
	}
	if _, err := svc.RestoreShared(b[n+20:]); err != nil {
		return live.SharedPos{}, err
	}
	log.Info("cluster: live state read from the checkpoint", "readings", pos.Readings, "decisions", pos.Decisions)
	return pos, nil
}

// takeOver reconciles partition p, just gained, once every decision the
// history stream holds now is applied.
func takeOver(ctx context.Context, sl *sharedLive, svc *live.Service, p int) error {
	last, err := sl.node.LastSeq(ctx, cluster.HistoryStream)
	if err != nil {
		return err
	}
	for svc.Position().Decisions < last {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	done, ok := sl.node.Owner().Hold(p)
	if !ok {
		return nil // lost again meanwhile
	}
	defer done()
	return svc.Reconcile(ctx, func(sensor uint64) bool { return cluster.Partition(sensor) == p })
}

// leading says whether this instance escalates the linked response's
// overdue deliveries, tasks and approvals: the holder of partition 0 does.
func (sl *sharedLive) leading() bool { return sl.node.Owner().OwnsPartition(0) }

// incidentSyncEvery is how often an instance of a cluster reads the
// incident records the others kept.
const incidentSyncEvery = time.Second

// shareIncidents keeps the incidents of a cluster on one database the same
// on every instance: each reads what the others kept every
// incidentSyncEvery, and a step taken on one that had not read the latest
// is checked again after it (incident.ErrTaken). Without a database each
// instance keeps its own.
func shareIncidents(ctx context.Context, st store.Store, book *incident.Book, log *slog.Logger) {
	if _, ok := st.(*postgis.Store); !ok {
		log.Warn("cluster: incidents and warnings are kept by each instance on its own; serve --db to share them")
		return
	}
	var failing bool
	go every(ctx, incidentSyncEvery, func(time.Time) {
		err := book.Sync(ctx)
		if err != nil && !failing && ctx.Err() == nil {
			log.Error("cluster: read the incidents the other instances kept", "err", err)
		}
		failing = err != nil
	})
}

// archiveToPostGIS copies the cluster's readings and decisions into the
// database, which stays their system of record: every instance takes a
// share of what no instance has copied yet (cluster.Node.Archive), and what
// an instance that died had in hand is copied by another. The instance
// that leads drops the readings past the retention.
func archiveToPostGIS(ctx context.Context, sl *sharedLive, st store.Store, retention time.Duration, log *slog.Logger) {
	pg, ok := st.(*postgis.Store)
	if !ok {
		return
	}
	j := pg.Journal(retention)
	go func() {
		err := sl.node.Archive(ctx, cluster.ReadingsStream, func(msgs []cluster.Message) error {
			var rs []live.Reading
			for _, m := range msgs {
				batch, err := live.DecodeReadings(m.Data)
				if err != nil {
					log.Error("cluster: a readings message not read; not archived", "seq", m.Seq, "err", err)
					continue
				}
				rs = append(rs, batch...)
			}
			return j.AppendReadings(ctx, rs)
		})
		if err != nil && ctx.Err() == nil {
			log.Error("cluster: archive the readings", "err", err)
		}
	}()
	go func() {
		err := sl.node.Archive(ctx, cluster.HistoryStream, func(msgs []cluster.Message) error {
			for _, m := range msgs {
				evs, err := live.DecodeEvents(m.Data)
				if err != nil {
					log.Error("cluster: a message of decisions not read; not archived", "seq", m.Seq, "err", err)
					continue
				}
				if err := j.ArchiveEvents(ctx, m.Seq, evs); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil && ctx.Err() == nil {
			log.Error("cluster: archive the decisions", "err", err)
		}
	}()
	go every(ctx, time.Hour, func(now time.Time) {
		if !sl.leading() {
			return
		}
		if err := j.Prune(ctx, 0, now.Add(-retention)); err != nil {
			log.Error("cluster: drop the readings past the retention", "err", err)
		}
	})
}

// clusterHealth is what /readyz and /healthz tell of the cluster.
type clusterHealth struct{ node *cluster.Node }

func (h clusterHealth) Health() error { return h.node.Health() }

func (h clusterHealth) Status() any {
	o := h.node.Owner()
	return map[string]any{"name": h.node.Name(), "instances": o.Instances(), "partitions": o.Partitions(), "counts": h.node.Stats()}
}
