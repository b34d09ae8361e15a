package server

import (
	"context"

	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/spatial"
	"github.com/onemap/onemap/tiles"
	"github.com/paulmach/orb"
)

// Analyses are the spatial analyses the API answers; *spatial.Analyses is
// one.
type Analyses interface {
	// ValveClosure reports the closure around a burst pipe. A
	// *spatial.NoValvesError is answered not_a_pipe, spatial.ErrNotValve
	// not_a_valve, store.ErrNotFound not_found.
	ValveClosure(ctx context.Context, pipe uint64, failed []uint64) (*spatial.ValveReport, error)
	// AlarmImpact assesses what an alarm's event would reach.
	AlarmImpact(ctx context.Context, a spatial.AlarmSite) (*spatial.AlarmImpact, error)
	// GasSpaces are the underground spaces near gas pipes, the riskiest
	// first; spatial.ErrRadius is answered bad_radius.
	GasSpaces(ctx context.Context, q spatial.GasQuery) ([]spatial.Space, error)
}

// Tiles encodes the vector tiles of the stored and derived layers;
// *tiles.Encoder is one.
type Tiles interface {
	// Version grows when a layer's data changes.
	Version(layer string) uint64
	Encode(ctx context.Context, layers []string, t tiles.Tile) ([]byte, error)
}

// SiteOf is what the impact analysis reads of an alarm.
func SiteOf(a *live.Alarm) spatial.AlarmSite {
	return spatial.AlarmSite{ID: a.ID, Level: int(a.Level), Domain: string(a.Domain), Metric: a.Metric, Asset: a.Asset, Location: orb.Point(a.Location)}
}

// noAnalyses answers every analysis not_found: a server given none.
type noAnalyses struct{}

func (noAnalyses) ValveClosure(context.Context, uint64, []uint64) (*spatial.ValveReport, error) {
	return nil, errorf(CodeNotFound, "this server makes no analyses")
}

func (noAnalyses) AlarmImpact(context.Context, spatial.AlarmSite) (*spatial.AlarmImpact, error) {
	return nil, errorf(CodeNotFound, "this server makes no analyses")
}

func (noAnalyses) GasSpaces(context.Context, spatial.GasQuery) ([]spatial.Space, error) {
	return nil, errorf(CodeNotFound, "this server makes no analyses")
}
