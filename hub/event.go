package hub

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
)

// Topic names a kind of live change a client may subscribe to.
type Topic string

// The topics of the live map.
const (
	Sensors   Topic = "sensors"    // a sensor metric's level, health and value
	Alarms    Topic = "alarms"     // an alarm raised, changed, cleared or acknowledged
	RiskZones Topic = "risk_zones" // the risk zone layer's new version: refetch its tiles
	Warnings  Topic = "warnings"   // a warning published, re-issued, resolved or released
)

// Topics lists every topic, in the order messages carry them.
var Topics = []Topic{Sensors, Alarms, RiskZones, Warnings}

func (t Topic) bit() uint8 {
	if i := slices.Index(Topics, t); i >= 0 {
		return 1 << i
	}
	return 0
}

// Event is one change: the latest state of one feature (a sensor's metric,
// an alarm) or of one layer. Events of the same Topic, ID and Part coalesce:
// a client that is behind gets only the latest of them.
type Event struct {
	// Seq is the hub's position of the event, set when the hub takes it,
	// or by a bus that numbers events (see Bus).
	Seq   uint64
	Topic Topic
	// ID is the feature id the tiles carry (a sensor), or the alarm's id;
	// 0 for a layer-wide event.
	ID uint64
	// Part tells apart states of one feature, such as a sensor's metrics.
	Part string
	// Point is where the event is; Located says whether it is anywhere.
	// Events that are nowhere (a layer version) reach every subscriber of
	// their topic.
	Point   orb.Point
	Located bool
	// MinZoom keeps the event from subscriptions zoomed out below it: a
	// sensor's new value matters only where sensors are drawn.
	MinZoom float64
	// Deferred events (a sensor's new value, with no change of level) may
	// wait up to the hub's DeferFor to travel with others; the rest go at
	// once and take what waits with them.
	Deferred bool
	Time     time.Time
	// Data is what clients receive, shared by all of them and never
	// changed after publishing; a json.RawMessage is sent as is.
	Data any

	k key // set when the hub takes the event
}

// key identifies what an event is the state of, for coalescing: fixed
// size, so that a client's index hashes it quickly.
type key struct {
	id    uint64
	part  uint32
	topic uint8
}

// parts interns the Part strings of events: a city has a few dozen metrics.
var parts = struct {
	sync.RWMutex
	ids map[string]uint32
}{ids: map[string]uint32{"": 0}}

func partID(p string) uint32 {
	parts.RLock()
	id, ok := parts.ids[p]
	parts.RUnlock()
	if ok {
		return id
	}
	parts.Lock()
	defer parts.Unlock()
	if id, ok := parts.ids[p]; ok {
		return id
	}
	id = uint32(len(parts.ids))
	parts.ids[p] = id
	return id
}

func (e *Event) makeKey() { e.k = key{e.ID, partID(e.Part), e.Topic.bit()} }

// LayerVersion is the Data of a layer-wide event: the layer's new version.
type LayerVersion struct {
	Version uint64 `json:"version"`
}

// Circle is a region around a point: a phone's "near me".
type Circle struct {
	Center orb.Point
	Radius float64 // metres on the ground
}

// Subscription is what a client wants to see: some topics within a viewport
// (BBox and Zoom) or a circle.
type Subscription struct {
	Topics []Topic
	BBox   *orb.Bound
	Zoom   float64
	Circle *Circle
	// Resume is the last sequence number the client saw on an earlier
	// connection, with the same region and topics; 0 asks for a snapshot.
	Resume uint64
}

// Limits of a subscription.
const (
	MaxRadius = 100_000.0 // metres: a circle is a neighbourhood, not a province
	MaxZoom   = 24
)

// ErrBadSubscription is wrapped by the errors of Subscription.Validate.
var ErrBadSubscription = errors.New("hub: bad subscription")

// Validate says what is wrong with a subscription, if anything.
func (s Subscription) Validate() error {
	if len(s.Topics) == 0 {
		return fmt.Errorf("%w: no topics", ErrBadSubscription)
	}
	for _, t := range s.Topics {
		if t.bit() == 0 {
			return fmt.Errorf("%w: unknown topic %q", ErrBadSubscription, t)
		}
	}
	switch {
	case s.BBox == nil && s.Circle == nil:
		return fmt.Errorf("%w: a bbox or a circle is needed", ErrBadSubscription)
	case s.BBox != nil && s.Circle != nil:
		return fmt.Errorf("%w: a bbox or a circle, not both", ErrBadSubscription)
	case s.BBox != nil:
		b := *s.BBox
		if !validLonLat(b.Min) || !validLonLat(b.Max) || b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1] {
			return fmt.Errorf("%w: a bbox is minLon,minLat,maxLon,maxLat in degrees, min before max", ErrBadSubscription)
		}
	default:
		c := *s.Circle
		if !validLonLat(c.Center) || !(c.Radius > 0 && c.Radius <= MaxRadius) {
			return fmt.Errorf("%w: a circle is lon,lat in degrees and a radius of up to %v m", ErrBadSubscription, MaxRadius)
		}
	}
	if !(s.Zoom >= 0 && s.Zoom <= MaxZoom) {
		return fmt.Errorf("%w: zoom is 0 to %d", ErrBadSubscription, MaxZoom)
	}
	return nil
}

func validLonLat(p orb.Point) bool {
	return !math.IsNaN(p[0]) && !math.IsNaN(p[1]) && p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90
}

// Bound is the bound of the subscription's region: the bbox, or the
// circle's bound.
func (s Subscription) Bound() orb.Bound {
	if s.BBox != nil {
		return *s.BBox
	}
	if s.Circle != nil {
		return geo.NewBoundAroundPoint(s.Circle.Center, s.Circle.Radius)
	}
	return orb.Bound{}
}

// Contains reports whether a point is within the subscription's region.
func (s Subscription) Contains(p orb.Point) bool {
	if s.Circle != nil {
		return geo.Distance(s.Circle.Center, p) <= s.Circle.Radius
	}
	return s.BBox != nil && s.BBox.Contains(p)
}

// filter is a subscription prepared for matching events.
type filter struct {
	topics uint8
	bound  orb.Bound
	sub    Subscription
}

func newFilter(s Subscription) filter {
	f := filter{bound: s.Bound(), sub: s}
	for _, t := range s.Topics {
		f.topics |= t.bit()
	}
	return f
}

func (f *filter) wants(e *Event) bool {
	if f.topics&e.Topic.bit() == 0 || f.sub.Zoom < e.MinZoom {
		return false
	}
	return !e.Located || f.sub.Contains(e.Point)
}
