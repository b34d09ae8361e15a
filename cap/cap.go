package cap

import (
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/onemap/onemap/incident"
	"github.com/paulmach/orb"
)

// Namespace is the CAP 1.2 XML namespace.
const Namespace = "urn:oasis:names:tc:emergency:cap:1.2"

// Alert is a CAP 1.2 alert; the fields are in the schema's element order.
type Alert struct {
	XMLName    xml.Name `xml:"urn:oasis:names:tc:emergency:cap:1.2 alert"`
	Identifier string   `xml:"identifier"`
	Sender     string   `xml:"sender"`
	Sent       string   `xml:"sent"`
	Status     string   `xml:"status"`
	MsgType    string   `xml:"msgType"`
	Source     string   `xml:"source,omitempty"`
	Scope      string   `xml:"scope"`
	Note       string   `xml:"note,omitempty"`
	References string   `xml:"references,omitempty"`
	Incidents  string   `xml:"incidents,omitempty"`
	Infos      []Info   `xml:"info"`
}

// Info is one info block of an alert, in one language.
type Info struct {
	Language    string   `xml:"language,omitempty"`
	Category    []string `xml:"category"`
	Event       string   `xml:"event"`
	Urgency     string   `xml:"urgency"`
	Severity    string   `xml:"severity"`
	Certainty   string   `xml:"certainty"`
	Effective   string   `xml:"effective,omitempty"`
	Onset       string   `xml:"onset,omitempty"`
	Expires     string   `xml:"expires,omitempty"`
	SenderName  string   `xml:"senderName,omitempty"`
	Headline    string   `xml:"headline,omitempty"`
	Description string   `xml:"description,omitempty"`
	Instruction string   `xml:"instruction,omitempty"`
	Web         string   `xml:"web,omitempty"`
	Contact     string   `xml:"contact,omitempty"`
	Areas       []Area   `xml:"area"`
}

// Area is an info block's area: a description, polygons and circles.
type Area struct {
	AreaDesc string   `xml:"areaDesc"`
	Polygons []string `xml:"polygon,omitempty"`
	Circles  []string `xml:"circle,omitempty"`
}

// The value lists of CAP 1.2.
var (
	Statuses     = []string{"Actual", "Exercise", "System", "Test", "Draft"}
	MsgTypes     = []string{"Alert", "Update", "Cancel", "Ack", "Error"}
	Scopes       = []string{"Public", "Restricted", "Private"}
	CategoryList = []string{"Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra", "CBRNE", "Other"}
	Urgencies    = []string{"Immediate", "Expected", "Future", "Past", "Unknown"}
	Severities   = []string{"Extreme", "Severe", "Moderate", "Minor", "Unknown"}
	Certainties  = []string{"Observed", "Likely", "Possible", "Unlikely", "Unknown"}
)

// Severity maps a warning level to CAP severity: I Extreme, II Severe,
// III Moderate, IV Minor; anything else Unknown.
func Severity(l incident.Level) string {
	switch l {
	case incident.LevelI:
		return "Extreme"
	case incident.LevelII:
		return "Severe"
	case incident.LevelIII:
		return "Moderate"
	case incident.LevelIV:
		return "Minor"
	}
	return "Unknown"
}

// Categories maps a warning type to CAP categories; a type not listed is
// Safety.
var Categories = map[string][]string{
	// The scenarios of the impact analysis.
	"gas_pipe_rupture":       {"Fire", "Infra"},
	"gas_explosion_confined": {"Safety", "Infra"},
	"tunnel_gas":             {"Safety", "Infra"},
	"water_main_burst":       {"Infra", "Transport"},
	"waterlogging":           {"Met", "Infra"},
	"heating_burst":          {"Safety", "Infra"},
	"bridge_damage":          {"Infra", "Transport"},
	"tunnel_incident":        {"Infra"},
	// Other types a person may give.
	"gas_leak":          {"Safety", "Infra"},
	"gas_explosion":     {"Fire", "Infra"},
	"pipe_burst":        {"Infra"},
	"water_quality":     {"Health", "Infra"},
	"drainage_overflow": {"Env", "Infra"},
	"road_collapse":     {"Geo", "Transport"},
	"heating_leak":      {"Safety", "Infra"},
	"tunnel_fire":       {"Fire", "Infra"},
	"toxic_gas":         {"CBRNE", "Safety"},
}

// TimeLayout is the CAP dateTime form: offset, no fractional seconds.
const TimeLayout = "2006-01-02T15:04:05-07:00"

// FormatTime writes t as CAP 1.2 asks: seconds, a numeric offset, and UTC
// as "-00:00" (no "Z").
func FormatTime(t time.Time) string {
	s := t.Truncate(time.Second).Format(TimeLayout)
	if _, off := t.Zone(); off == 0 {
		s = s[:len(s)-6] + "-00:00"
	}
	return s
}

// Ref names an earlier alert an update or a cancel refers to.
type Ref struct {
	Sender     string
	Identifier string
	Sent       time.Time
}

// String is the reference as CAP writes it: sender,identifier,sent.
func (r Ref) String() string { return r.Sender + "," + r.Identifier + "," + FormatTime(r.Sent) }

// Circle is a circle of an area: its centre (lon, lat) and radius in km.
type Circle struct {
	Center   orb.Point
	RadiusKm float64
}

// Options are what an alert needs beyond the warning.
type Options struct {
	Identifier string    // unique for the sender, no spaces, commas or < &
	Sender     string    // e.g. "onemap@city.example.gov.cn"
	Sent       time.Time // in the city's zone
	MsgType    string    // Alert, Update or Cancel; Alert when empty
	References []Ref     // the earlier alerts an Update or a Cancel refers to
	Incident   string    // the incident id, for <incidents>
	SenderName string
	Web        string
	Expires    time.Time // zero for none
	// Certainty is Observed when empty (a warning follows verified alarms).
	Certainty string
	// Urgency is Immediate for I and II and Expected for III and IV when empty.
	Urgency string
	// Event names the warning's type in Chinese and English, for
	// info/event; the type itself when empty.
	Event   [2]string
	Circles []Circle
}

// ErrInvalid is matched by errors.Is for every error of Validate and Build.
var ErrInvalid = errors.New("cap: invalid alert")

// Error is why an alert is not valid CAP 1.2: the element and the reason.
type Error struct {
	Element string
	Reason  string
}

func (e *Error) Error() string { return "cap: " + e.Element + ": " + e.Reason }

// Is makes every Error match ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

func invalid(el, format string, args ...any) error {
	return &Error{Element: el, Reason: fmt.Sprintf(format, args...)}
}

// Build makes the alert of warning w: an info block in zh-CN and one in
// English, both with the warning's area.
func Build(w incident.Warning, o Options) (*Alert, error) {
	msg := o.MsgType
	if msg == "" {
		msg = "Alert"
	}
	refs := make([]string, len(o.References))
	for i, r := range o.References {
		refs[i] = r.String()
	}
	a := &Alert{Identifier: o.Identifier, Sender: o.Sender, Sent: FormatTime(o.Sent), Status: "Actual",
		MsgType: msg, Scope: "Public", References: strings.Join(refs, " "), Incidents: o.Incident}
	cats := Categories[w.Type]
	if cats == nil {
		cats = []string{"Safety"}
	}
	names := o.Event
	if names[0] == "" || names[1] == "" {
		names = [2]string{w.Type, w.Type}
	}
	urg := o.Urgency
	if urg == "" {
		urg = "Expected"
		if w.Level == incident.LevelI || w.Level == incident.LevelII {
			urg = "Immediate"
		}
	}
	cert := o.Certainty
	if cert == "" {
		cert = "Observed"
	}
	area := Area{AreaDesc: w.Location}
	if w.Area != nil {
		ps, err := Polygons(w.Area.Geometry())
		if err != nil {
			return nil, err
		}
		area.Polygons = ps
	}
	for _, c := range o.Circles {
		area.Circles = append(area.Circles, formatCircle(c))
	}
	exp := ""
	if !o.Expires.IsZero() {
		exp = FormatTime(o.Expires)
	}
	eff := ""
	if !w.Time.IsZero() {
		eff = FormatTime(w.Time.In(o.Sent.Location()))
	}
	zhHead := w.Headline
	if zhHead == "" {
		zhHead = fmt.Sprintf("%s%s级预警：%s", names[0], w.Level, w.Location)
	}
	enHead := w.HeadlineEn
	if enHead == "" {
		enHead = fmt.Sprintf("Level %s %s warning: %s", w.Level, names[1], w.Location)
	}
	base := Info{Category: cats, Urgency: urg, Severity: Severity(w.Level), Certainty: cert,
		Effective: eff, Expires: exp, SenderName: o.SenderName, Web: o.Web, Areas: []Area{area}}
	zh, en := base, base
	zh.Language, zh.Event, zh.Headline, zh.Description, zh.Instruction = "zh-CN", names[0], zhHead, w.Surroundings, w.Instructions
	en.Language, en.Event, en.Headline, en.Description, en.Instruction = "en", names[1], enHead, w.SurroundingsEn, w.InstructionsEn
	en.Category = slices.Clone(cats)
	a.Infos = []Info{zh, en}
	if err := Validate(a); err != nil {
		return nil, err
	}
	return a, nil
}

func coord(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func formatCircle(c Circle) string {
	return coord(c.Center.Lat()) + "," + coord(c.Center.Lon()) + " " + coord(c.RadiusKm)
}

// Polygons writes the outer rings of a polygon or multipolygon (lon, lat)
// as CAP polygons: "lat,lon" pairs separated by spaces, the first pair
// repeated last, at least four pairs.
func Polygons(g orb.Geometry) ([]string, error) {
	var polys []orb.Polygon
	switch v := g.(type) {
	case orb.Polygon:
		polys = []orb.Polygon{v}
	case orb.MultiPolygon:
		polys = v
	case orb.Ring:
		polys = []orb.Polygon{{v}}
	default:
		return nil, invalid("polygon", "the area is a %T, not a polygon", g)
	}
	var out []string
	for _, p := range polys {
		if len(p) == 0 {
			continue
		}
		ring := slices.Clone(p[0])
		if len(ring) > 0 && ring[0] != ring[len(ring)-1] {
			ring = append(ring, ring[0])
		}
		if len(ring) < 4 {
			return nil, invalid("polygon", "a ring of %d points; CAP needs at least four pairs", len(ring))
		}
		pairs := make([]string, len(ring))
		for i, pt := range ring {
			if math.IsNaN(pt.Lat()) || math.Abs(pt.Lat()) > 90 || math.IsNaN(pt.Lon()) || math.Abs(pt.Lon()) > 180 {
				return nil, invalid("polygon", "point %v is not WGS 84 lon, lat", pt)
			}
			pairs[i] = coord(pt.Lat()) + "," + coord(pt.Lon())
		}
		out = append(out, strings.Join(pairs, " "))
	}
	return out, nil
}

// Marshal writes the alert as an XML document with its declaration.
func Marshal(a *Alert) ([]byte, error) {
	if err := Validate(a); err != nil {
		return nil, err
	}
	b, err := xml.MarshalIndent(a, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("cap: marshal: %w", err)
	}
	return append([]byte(xml.Header), b...), nil
}

func checkTime(el, s string) error {
	if t, err := time.Parse(TimeLayout, s); err == nil && FormatTime(t) == s {
		return nil
	}
	if strings.HasSuffix(s, "+00:00") || strings.HasSuffix(s, "Z") {
		return invalid(el, "%q: UTC is written -00:00", s)
	}
	return invalid(el, "%q is not a CAP time (YYYY-MM-DDThh:mm:ss±hh:mm)", s)
}

func checkWord(el, s string) error {
	if s == "" {
		return invalid(el, "required")
	}
	if strings.ContainsAny(s, " ,<&") {
		return invalid(el, "%q has a space, a comma, < or &", s)
	}
	return nil
}

// Validate checks what CAP 1.2 requires of an alert: the required
// elements, the value lists, the times, the references and the polygon
// and circle forms.
func Validate(a *Alert) error {
	if err := checkWord("identifier", a.Identifier); err != nil {
		return err
	}
	if err := checkWord("sender", a.Sender); err != nil {
		return err
	}
	if err := checkTime("sent", a.Sent); err != nil {
		return err
	}
	for _, c := range []struct {
		el, v string
		list  []string
	}{{"status", a.Status, Statuses}, {"msgType", a.MsgType, MsgTypes}, {"scope", a.Scope, Scopes}} {
		if !slices.Contains(c.list, c.v) {
			return invalid(c.el, "%q is not one of %s", c.v, strings.Join(c.list, ", "))
		}
	}
	if (a.MsgType == "Update" || a.MsgType == "Cancel") && a.References == "" {
		return invalid("references", "an %s refers to the earlier alerts", a.MsgType)
	}
	for _, r := range strings.Fields(a.References) {
		parts := strings.Split(r, ",")
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
			return invalid("references", "%q is not sender,identifier,sent", r)
		}
		if err := checkTime("references", parts[2]); err != nil {
			return err
		}
	}
	for i, in := range a.Infos {
		el := fmt.Sprintf("info[%d]", i)
		if len(in.Category) == 0 {
			return invalid(el+"/category", "required")
		}
		for _, c := range in.Category {
			if !slices.Contains(CategoryList, c) {
				return invalid(el+"/category", "%q is not a CAP category", c)
			}
		}
		if in.Event == "" {
			return invalid(el+"/event", "required")
		}
		for _, c := range []struct {
			el, v string
			list  []string
		}{{"urgency", in.Urgency, Urgencies}, {"severity", in.Severity, Severities}, {"certainty", in.Certainty, Certainties}} {
			if !slices.Contains(c.list, c.v) {
				return invalid(el+"/"+c.el, "%q is not one of %s", c.v, strings.Join(c.list, ", "))
			}
		}
		for _, t := range []struct{ el, v string }{{"effective", in.Effective}, {"onset", in.Onset}, {"expires", in.Expires}} {
			if t.v != "" {
				if err := checkTime(el+"/"+t.el, t.v); err != nil {
					return err
				}
			}
		}
		for j, ar := range in.Areas {
			ael := fmt.Sprintf("%s/area[%d]", el, j)
			if ar.AreaDesc == "" {
				return invalid(ael+"/areaDesc", "required")
			}
			for _, p := range ar.Polygons {
				if err := checkPolygon(p); err != nil {
					return invalid(ael+"/polygon", "%v", err)
				}
			}
			for _, c := range ar.Circles {
				if err := checkCircle(c); err != nil {
					return invalid(ael+"/circle", "%v", err)
				}
			}
		}
	}
	return nil
}

func parsePair(s string) (lat, lon float64, err error) {
	la, lo, ok := strings.Cut(s, ",")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not lat,lon", s)
	}
	lat, err1 := strconv.ParseFloat(la, 64)
	lon, err2 := strconv.ParseFloat(lo, 64)
	if err1 != nil || err2 != nil || !(math.Abs(lat) <= 90) || !(math.Abs(lon) <= 180) {
		return 0, 0, fmt.Errorf("%q is not WGS 84 lat,lon", s)
	}
	return lat, lon, nil
}

func checkPolygon(p string) error {
	pairs := strings.Split(p, " ")
	if len(pairs) < 4 {
		return fmt.Errorf("%d pairs; at least four", len(pairs))
	}
	for _, pr := range pairs {
		if _, _, err := parsePair(pr); err != nil {
			return err
		}
	}
	if pairs[0] != pairs[len(pairs)-1] {
		return errors.New("the first and the last pair differ")
	}
	return nil
}

func checkCircle(c string) error {
	centre, r, ok := strings.Cut(c, " ")
	if !ok {
		return fmt.Errorf("%q is not \"lat,lon radius\"", c)
	}
	if _, _, err := parsePair(centre); err != nil {
		return err
	}
	if v, err := strconv.ParseFloat(r, 64); err != nil || !(v >= 0) || math.IsInf(v, 0) {
		return fmt.Errorf("radius %q is not a length in km", r)
	}
	return nil
}
