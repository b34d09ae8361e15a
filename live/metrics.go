package live

import "sort"

// Domain is the infrastructure domain a metric or a sensor belongs to.
type Domain string

// The domains of the city safety platform.
const (
	Gas      Domain = "gas"
	Water    Domain = "water"
	Drainage Domain = "drainage"
	Heating  Domain = "heating"
	Bridge   Domain = "bridge"
	Tunnel   Domain = "tunnel"
)

// AllDomains lists the domains a sensor may watch.
var AllDomains = []Domain{Gas, Water, Drainage, Heating, Bridge, Tunnel}

// Unit is one unit a metric may be reported in, with the values the quantity
// can physically take in that unit and the full scale of a typical instrument.
type Unit struct {
	Symbol string
	// Min and Max bound what the quantity can physically be: ingest refuses
	// a reading outside them as an error of the sender.
	Min, Max float64
	// InstMin and InstMax are a typical instrument's measuring range: a
	// reading outside it is a sensor fault (unless a rule says otherwise).
	InstMin, InstMax float64
}

// Metric describes one metric id that sensors report.
type Metric struct {
	ID      string
	Name    string
	Units   []Unit // the first is the default, assumed when a reading names none
	Domains []Domain
}

// Unit returns the metric's unit with the given symbol, or its default unit
// when symbol is empty; ok is false for a unit the metric is not reported in.
func (m *Metric) Unit(symbol string) (u Unit, ok bool) {
	if symbol == "" {
		return m.Units[0], true
	}
	for _, u := range m.Units {
		if u.Symbol == symbol {
			return u, true
		}
	}
	return Unit{}, false
}

// InRange reports whether v is physically possible in the given unit
// (the default unit when symbol is empty); ingest refuses readings for which
// it is false.
func (m *Metric) InRange(v float64, symbol string) bool {
	u, ok := m.Unit(symbol)
	return ok && v >= u.Min && v <= u.Max
}

func unit(sym string, lo, hi, instLo, instHi float64) Unit {
	return Unit{Symbol: sym, Min: lo, Max: hi, InstMin: instLo, InstMax: instHi}
}

// catalog is every metric id, keyed by id. The ids are the sample city's
// sensor vocabulary (citygen.Metrics) plus frequency, which the guide names
// for bridges. Instrument ranges follow the guide where it gives one (water
// pressure 0–2.5 MPa, leak noise 0–100 dB, impact ±20 g); physical ranges are
// wide on purpose, to refuse only readings no sensor could honestly send.
var catalog = map[string]*Metric{
	"ch4_lel": {"ch4_lel", "combustible gas (methane)", []Unit{unit("%LEL", 0, 2000, 0, 100)}, []Domain{Gas, Drainage}},
	"ch4_vol": {"ch4_vol", "methane", []Unit{unit("%VOL", 0, 100, 0, 100)}, []Domain{Tunnel}},
	"leak_scan": {"leak_scan", "laser methane leak scan", []Unit{unit("ppm·m", 0, 1e7, 0, 100000)},
		[]Domain{Gas}},
	"pressure": {"pressure", "pipe pressure", []Unit{unit("MPa", -0.1, 10, -0.1, 4)}, []Domain{Gas, Water, Heating}},
	"flow": {"flow", "flow", []Unit{unit("m³/h", -1e6, 1e6, -1e5, 1e5), unit("m/s", -20, 20, -10, 10)},
		[]Domain{Gas, Water, Drainage, Heating}},
	"leak_noise":   {"leak_noise", "leak noise", []Unit{unit("dB", 0, 200, 0, 100)}, []Domain{Water}},
	"vibration":    {"vibration", "vibration over a pipe (construction)", []Unit{unit("score", 0, 100, 0, 100)}, []Domain{Gas}},
	"level":        {"level", "water level", []Unit{unit("%", -10, 1000, 0, 200)}, []Domain{Drainage, Tunnel}},
	"water_depth":  {"water_depth", "road waterlogging depth", []Unit{unit("cm", 0, 1000, 0, 300)}, []Domain{Drainage}},
	"rainfall":     {"rainfall", "rainfall intensity", []Unit{unit("mm/h", 0, 1000, 0, 300)}, []Domain{Drainage, Bridge}},
	"river_level":  {"river_level", "river level above the warning level", []Unit{unit("m", -100, 100, -20, 20)}, []Domain{Drainage}},
	"h2s":          {"h2s", "hydrogen sulphide", []Unit{unit("mg/m³", 0, 10000, 0, 150)}, []Domain{Drainage, Tunnel}},
	"o2":           {"o2", "oxygen", []Unit{unit("%VOL", 0, 100, 0, 30)}, []Domain{Tunnel}},
	"temperature":  {"temperature", "temperature", []Unit{unit("°C", -60, 400, -40, 200)}, []Domain{Heating, Tunnel, Bridge}},
	"humidity":     {"humidity", "relative humidity", []Unit{unit("%RH", 0, 100, 0, 100)}, []Domain{Tunnel, Bridge}},
	"strain":       {"strain", "strain", []Unit{unit("με", -1e5, 1e5, -3000, 3000)}, []Domain{Bridge}},
	"deflection":   {"deflection", "deflection", []Unit{unit("mm", -1e4, 1e4, -2000, 2000)}, []Domain{Bridge}},
	"displacement": {"displacement", "displacement", []Unit{unit("mm", -1e4, 1e4, -1000, 1000)}, []Domain{Bridge}},
	"tilt":         {"tilt", "tilt", []Unit{unit("°", -90, 90, -30, 30)}, []Domain{Bridge}},
	"crack_width":  {"crack_width", "crack width", []Unit{unit("mm", 0, 100, 0, 10)}, []Domain{Bridge}},
	"acceleration": {"acceleration", "structural acceleration", []Unit{unit("g", -100, 100, -20, 20)}, []Domain{Bridge}},
	"cable_force":  {"cable_force", "cable or hanger force", []Unit{unit("kN", -1e5, 1e5, 0, 20000)}, []Domain{Bridge}},
	"vehicle_weight": {"vehicle_weight", "gross vehicle weight (weigh-in-motion)", []Unit{unit("t", 0, 1000, 0, 200)},
		[]Domain{Bridge}},
	"wind_speed": {"wind_speed", "wind speed", []Unit{unit("m/s", 0, 150, 0, 60)}, []Domain{Bridge}},
	"frequency":  {"frequency", "first natural frequency", []Unit{unit("Hz", 0, 1000, 0, 100)}, []Domain{Bridge}},
	"battery":    {"battery", "battery charge", []Unit{unit("%", 0, 100, 0, 100)}, []Domain{Gas, Water, Drainage}},
}

// LookupMetric returns the catalog entry of a metric id, or nil for an
// unknown one.
func LookupMetric(id string) *Metric { return catalog[id] }

// Metrics returns every metric of the catalog, sorted by id.
func Metrics() []*Metric {
	ms := make([]*Metric, 0, len(catalog))
	for _, m := range catalog {
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
	return ms
}
