package live

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// Sensor is a monitoring point: a sensor layer feature, read for ingest.
type Sensor struct {
	ID         uint64   `json:"id"`
	Code       string   `json:"code"`
	Domain     Domain   `json:"domain"`
	Kind       string   `json:"kind"`
	Metrics    []string `json:"metrics"`
	Asset      uint64   `json:"asset"`
	AssetLayer string   `json:"asset_layer"`
	AssetKind  string   `json:"asset_kind,omitempty"`
	District   string   `json:"district,omitempty"`
	// Owner is the unit that owns the point and answers for its alarms.
	Owner     string        `json:"owner,omitempty"`
	Interval  time.Duration `json:"-"`
	Location  orb.Point     `json:"location"`
	Installed string        `json:"installed,omitempty"`
}

// Measures reports whether the sensor reports a metric.
func (s *Sensor) Measures(metric string) bool { return slices.Contains(s.Metrics, metric) }

// Sensors is the registry of a city's sensors, by id, by device code and in
// space.
type Sensors struct {
	byID   map[uint64]*Sensor
	byCode map[string]*Sensor
	list   []*Sensor
	tree   rtree.RTreeGN[float64, *Sensor]
}

// NewSensors reads sensor layer features into a registry.
func NewSensors(fs []*layers.Feature) *Sensors {
	r := &Sensors{byID: make(map[uint64]*Sensor, len(fs)), byCode: make(map[string]*Sensor, len(fs))}
	for _, f := range fs {
		p, ok := f.Geometry.(orb.Point)
		if !ok {
			continue
		}
		s := &Sensor{ID: f.ID, Location: p, Interval: DefaultInterval}
		s.Code, _ = f.Props["code"].(string)
		d, _ := f.Props["domain"].(string)
		s.Domain = Domain(d)
		s.Kind, _ = f.Props["kind"].(string)
		ms, _ := f.Props["metrics"].(string)
		for _, m := range strings.Split(ms, ",") {
			if m = strings.TrimSpace(m); m != "" {
				s.Metrics = append(s.Metrics, m)
			}
		}
		if a, ok := f.Props["asset"].(float64); ok {
			s.Asset = uint64(a)
		}
		s.AssetLayer, _ = f.Props["asset_layer"].(string)
		if iv, ok := f.Props["interval_s"].(float64); ok && iv > 0 {
			s.Interval = time.Duration(iv * float64(time.Second))
		}
		s.Installed, _ = f.Props["installed"].(string)
		s.Owner, _ = f.Props["owner"].(string)
		r.byID[s.ID] = s
		if s.Code != "" {
			r.byCode[s.Code] = s
		}
		r.list = append(r.list, s)
		r.tree.Insert(p, p, s)
	}
	slices.SortFunc(r.list, func(a, b *Sensor) int {
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	return r
}

// Get returns the sensor with an id.
func (r *Sensors) Get(id uint64) (*Sensor, bool) { s, ok := r.byID[id]; return s, ok }

// Resolve finds the sensor a reading names: by feature id (a number or a
// decimal string) or by device code.
func (r *Sensors) Resolve(m json.RawMessage) (*Sensor, bool) {
	s := strings.TrimSpace(string(m))
	if s == "" {
		return nil, false
	}
	if s[0] == '"' {
		var str string
		if json.Unmarshal(m, &str) != nil {
			return nil, false
		}
		if sn, ok := r.byCode[str]; ok {
			return sn, true
		}
		s = str
	}
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil, false
	}
	return r.Get(id)
}

// All returns every sensor by id.
func (r *Sensors) All() []*Sensor { return r.list }

// In calls fn for each sensor in a bound.
func (r *Sensors) In(b orb.Bound, fn func(*Sensor) bool) {
	r.tree.Search(b.Min, b.Max, func(_, _ [2]float64, s *Sensor) bool { return fn(s) })
}

// Len is the number of sensors.
func (r *Sensors) Len() int { return len(r.list) }
