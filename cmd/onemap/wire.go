package main

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/server"
	"github.com/onemap/onemap/spatial"
	"github.com/onemap/onemap/store"
	"github.com/onemap/onemap/tiles"
)

// services are what the server is given ready-built: the analyses, the
// tile encoder with the derived layers, and the risk zone layer's version.
type services struct {
	analyses    *spatial.Analyses
	tiles       *tiles.Encoder
	riskVersion func() uint64
}

// zoneTimeout bounds the lookups that place the active alarms' zones when
// the risk zone layer is rebuilt.
const zoneTimeout = 10 * time.Second

// wire builds the services over a store and the live state (nil for none);
// now is the clock, nil for time.Now. With warm, the whole city's gas
// neighbourhood is made in the background, before the first user asks.
func wire(ctx context.Context, cat *layers.Catalog, st store.Store, svc *live.Service, now func() time.Time, warm bool, log *slog.Logger) services {
	if now == nil {
		now = time.Now
	}
	an := spatial.NewAnalyses(cat, st, now)
	enc := tiles.NewEncoder(cat, st)
	if adj := an.AdjacentLayer(); adj != nil {
		enc.With(adj.LayerID(), adj)
		if warm {
			go func() {
				start := time.Now()
				if err := an.Warm(ctx); err != nil {
					if ctx.Err() == nil {
						log.Warn("gas neighbourhood", "err", err)
					}
					return
				}
				log.Info("the whole city's gas neighbourhood is made", "took", time.Since(start).Round(time.Millisecond))
				// Making a province's neighbourhood takes gigabytes it no
				// longer needs: give them back.
				debug.FreeOSMemory()
			}()
		}
	}
	zones, zonesVersion := func() []spatial.AlarmZone { return nil }, func() uint64 { return 0 }
	if svc != nil {
		zones, zonesVersion = func() []spatial.AlarmZone {
			ctx, cancel := context.WithTimeout(context.Background(), zoneTimeout)
			defer cancel()
			var sites []spatial.AlarmSite
			for _, a := range svc.Alarms(live.AlarmFilter{State: live.Active}) {
				sites = append(sites, server.SiteOf(&a))
			}
			return spatial.AlarmZones(ctx, st, sites)
		}, svc.Version
	}
	s := services{analyses: an, tiles: enc}
	if rz, err := spatial.NewRiskZoneLayer(cat, st, zones, zonesVersion, now); err == nil {
		enc.With(rz.LayerID(), rz)
		s.riskVersion = rz.Changes
	}
	return s
}
