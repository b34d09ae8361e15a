package spatial

import (
	"context"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// Analyses answers the analyses of one city's store: valve closures over
// its pipe networks, alarm impacts, and its gas neighbourhood, the whole
// city's kept by the gas_adjacent_space layer.
type Analyses struct {
	st       FeatureStore
	networks *Networks
	adjacent *AdjacentSpaceLayer // nil when the catalog has no such layer
	now      func() time.Time
}

// NewAnalyses returns the analyses over st; now is the clock (nil is
// time.Now), which dates pipes' age and the time of day of an impact.
func NewAnalyses(cat *layers.Catalog, st FeatureStore, now func() time.Time) *Analyses {
	if now == nil {
		now = time.Now
	}
	a := &Analyses{st: st, networks: NewNetworks(cat, st), now: now}
	if adj, err := NewAdjacentSpaceLayer(cat, st, DefaultSensorDistance, now); err == nil {
		a.adjacent = adj
	}
	return a
}

// DefaultSensorDistance is how near, in metres, a gas sensor must be to
// an underground space to watch it, unless a query says otherwise.
const DefaultSensorDistance = 15.0

// AdjacentLayer is the derived gas_adjacent_space layer the analyses keep,
// for the tile encoder; nil when the catalog has no such layer.
func (a *Analyses) AdjacentLayer() *AdjacentSpaceLayer { return a.adjacent }

// ValveClosure reports a valve closure around a burst pipe; see
// ValveClosureReport for its errors.
func (a *Analyses) ValveClosure(ctx context.Context, pipe uint64, failed []uint64) (*ValveReport, error) {
	return ValveClosureReport(ctx, a.st, a.networks, pipe, failed)
}

// AlarmImpact assesses what an alarm's event would reach now.
func (a *Analyses) AlarmImpact(ctx context.Context, site AlarmSite) (*AlarmImpact, error) {
	return AssessAlarm(ctx, a.st, site, a.now())
}

// GasQuery asks for the underground spaces near gas pipes.
type GasQuery struct {
	// Bound is where to look; City says it is the whole city, which the
	// derived layer answers at the default distances.
	Bound orb.Bound
	City  bool
	// Distance is how near a gas pipe a space counts, SensorDistance how
	// near a sensor watches it, both in metres.
	Distance, SensorDistance float64
}

// GasSpaces are the spaces a query asks for, the riskiest first; an
// out-of-range distance is ErrRadius.
func (a *Analyses) GasSpaces(ctx context.Context, q GasQuery) ([]Space, error) {
	if q.City && q.Distance == GasDistance && a.adjacent != nil && q.SensorDistance == a.adjacent.SensorDistance() {
		return a.adjacent.Spaces(ctx)
	}
	return AdjacentSpaces(ctx, a.st, q.Bound, q.Distance, q.SensorDistance, a.now().Year())
}

// Warm makes what is slow to make, the whole city's gas neighbourhood,
// before it is first asked for: it takes seconds on a big city in PostGIS.
func (a *Analyses) Warm(ctx context.Context) error {
	if a.adjacent == nil {
		return nil
	}
	_, err := a.adjacent.Spaces(ctx)
	return err
}
