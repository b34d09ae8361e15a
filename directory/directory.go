package directory

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/onemap/onemap/layers"
)

// Kind is what a unit is in the linked response.
type Kind string

// The kinds of unit.
const (
	KindOwner       Kind = "owner"        // the owning unit of assets (权属单位)
	KindDepartment  Kind = "department"   // the domain's department (行业主管部门)
	KindDistrict    Kind = "district"     // a district's government (区政府, 街道)
	KindEmergency   Kind = "emergency"    // emergency management (应急管理局)
	KindExpertGroup Kind = "expert_group" // a domain's experts (专家)
)

// Kinds lists the kinds of unit.
var Kinds = []Kind{KindOwner, KindDepartment, KindDistrict, KindEmergency, KindExpertGroup}

// Domains lists the domains a unit or an expert may cover.
var Domains = []string{"gas", "water", "drainage", "heating", "bridge", "utility_tunnel"}

// domainAlias maps other spellings of a domain, such as the sensors'
// "tunnel", to the one Domains lists.
var domainAlias = map[string]string{"tunnel": "utility_tunnel"}

// NormalDomain returns the domain as Domains spells it: "tunnel" becomes
// "utility_tunnel"; any other value is returned as it is.
func NormalDomain(d string) string {
	if a, ok := domainAlias[d]; ok {
		return a
	}
	return d
}

// Channel is a way a person is told.
type Channel string

// The channels.
const (
	ChannelInApp   Channel = "in_app"  // the onemap inbox of the person's login
	ChannelSMS     Channel = "sms"     // a text message to the phone
	ChannelVoice   Channel = "voice"   // a voice call to the phone
	ChannelWebhook Channel = "webhook" // a POST to the person's unit's system
)

// Channels lists the channels.
var Channels = []Channel{ChannelInApp, ChannelSMS, ChannelVoice, ChannelWebhook}

// Reason is why a recipient is told.
type Reason string

// The reasons, in the order recipients are listed.
const (
	ReasonOwner      Reason = "owner"      // of the asset at risk
	ReasonInArea     Reason = "in_area"    // owns assets or targets in the impact area
	ReasonDepartment Reason = "department" // the domain's department
	ReasonDistrict   Reason = "district"   // a district the impact area touches
	ReasonEmergency  Reason = "emergency"  // emergency management
	ReasonExpert     Reason = "expert"     // an expert of the domain
	// ReasonApprover is for whoever may review or sign a draft whose
	// approval is late; the users with the right, not a directory group.
	ReasonApprover Reason = "approver"
)

// Reasons lists the reasons in their order.
var Reasons = []Reason{ReasonOwner, ReasonInArea, ReasonDepartment, ReasonDistrict, ReasonEmergency, ReasonExpert}

// Webhook is a unit's system that takes warnings by HTTP POST. Secret is
// the name of the shared secret (kept outside the directory), not the
// secret itself.
type Webhook struct {
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

// Unit is an organisation that is told.
type Unit struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	NameEn    string   `json:"name_en"`
	Kind      Kind     `json:"kind"`
	Domains   []string `json:"domains,omitempty"`
	Districts []string `json:"districts,omitempty"`
	// Parent is the unit above, to escalate to; "" for none.
	Parent string `json:"parent,omitempty"`
	// Head is the person id of the unit's head, to escalate to.
	Head    string   `json:"head,omitempty"`
	Webhook *Webhook `json:"webhook,omitempty"`
}

// Person is someone who is told.
type Person struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Unit  string `json:"unit"`
	Title string `json:"title,omitempty"`
	Phone string `json:"phone,omitempty"`
	// Login is the person's onemap login, for in-app delivery; "" for none.
	Login    string    `json:"login,omitempty"`
	Channels []Channel `json:"channels"`
	// Superior is the person id to escalate to; "" for the unit's head.
	Superior string `json:"superior,omitempty"`
	// Expertise are the domains an expert covers.
	Expertise []string `json:"expert_domains,omitempty"`
}

// LevelRule is who is told of a warning of one level.
type LevelRule struct {
	Level  int      `json:"level"`
	Groups []Reason `json:"groups"`
}

// File is the JSON form of a directory (directory.json).
type File struct {
	Units  []Unit      `json:"units"`
	People []Person    `json:"people"`
	Levels []LevelRule `json:"levels"`
}

// Limits of a directory file.
const (
	MaxFileSize = 4 << 20
	MaxUnits    = 2000
	MaxPeople   = 20000
	MaxList     = 64  // items of a list (domains, districts, channels, groups)
	MaxID       = 64  // bytes of an id or a login
	MaxText     = 200 // bytes of a name, title, district or phone
	MaxURL      = 2048
)

// Error is why a directory was refused; Code is stable ("bad_json",
// "too_large", "bad_unit", "bad_person", "bad_ref", "duplicate",
// "bad_levels"), Entry names the unit or person ("units[3] gas_co").
type Error struct {
	Code   string
	Entry  string
	Reason string
}

// Error is the code, the entry and the reason.
func (e *Error) Error() string {
	if e.Entry == "" {
		return "directory: " + e.Code + ": " + e.Reason
	}
	return "directory: " + e.Code + ": " + e.Entry + ": " + e.Reason
}

// ErrInvalid is matched by errors.Is for every *Error.
var ErrInvalid = errors.New("directory: invalid")

// Is makes every Error match ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

func fail(code, entry, format string, args ...any) error {
	return &Error{Code: code, Entry: entry, Reason: fmt.Sprintf(format, args...)}
}

// Directory is a checked directory: units, people and the level rules.
// It is not changed after Read and is safe for concurrent use.
type Directory struct {
	f       File
	units   map[string]int // id and name → index
	people  map[string]int
	byLogin map[string]int
	members map[string][]int // unit id → people indexes, by id
	levels  map[int][]Reason
}

// Read reads and checks a directory file: unknown fields are refused,
// every reference is checked, sizes are bounded (MaxFileSize and the
// other limits). Errors are *Error naming the entry.
func Read(r io.Reader) (*Directory, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("directory: read: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, fail("too_large", "", "a directory is at most %d bytes", MaxFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fail("bad_json", "", "%v", err)
	}
	if dec.More() {
		return nil, fail("bad_json", "", "more than one value")
	}
	return New(f)
}

// New checks f and returns its directory; f is copied.
func New(f File) (*Directory, error) {
	if len(f.Units) > MaxUnits || len(f.People) > MaxPeople {
		return nil, fail("too_large", "", "at most %d units and %d people", MaxUnits, MaxPeople)
	}
	d := &Directory{
		units: map[string]int{}, people: map[string]int{}, byLogin: map[string]int{},
		members: map[string][]int{}, levels: map[int][]Reason{},
	}
	d.f.Units = make([]Unit, len(f.Units))
	for i, u := range f.Units {
		u.Domains, u.Districts = slices.Clone(u.Domains), slices.Clone(u.Districts)
		if u.Webhook != nil {
			w := *u.Webhook
			u.Webhook = &w
		}
		entry := fmt.Sprintf("units[%d] %s", i, clip(u.ID))
		if err := checkUnit(&u, entry); err != nil {
			return nil, err
		}
		for _, k := range []string{u.ID, u.Name} {
			if _, dup := d.units[k]; dup {
				return nil, fail("duplicate", entry, "id or name %q is taken", k)
			}
			d.units[k] = i
		}
		d.f.Units[i] = u
	}
	d.f.People = make([]Person, len(f.People))
	for i, p := range f.People {
		p.Channels, p.Expertise = slices.Clone(p.Channels), slices.Clone(p.Expertise)
		entry := fmt.Sprintf("people[%d] %s", i, clip(p.ID))
		if err := checkPerson(&p, entry); err != nil {
			return nil, err
		}
		if _, dup := d.people[p.ID]; dup {
			return nil, fail("duplicate", entry, "id %q is taken", p.ID)
		}
		d.people[p.ID] = i
		if p.Login != "" {
			if _, dup := d.byLogin[p.Login]; dup {
				return nil, fail("duplicate", entry, "login %q is taken", p.Login)
			}
			d.byLogin[p.Login] = i
		}
		ui, ok := d.units[p.Unit]
		if !ok || d.f.Units[ui].ID != p.Unit {
			return nil, fail("bad_ref", entry, "unit %q is not a unit id", p.Unit)
		}
		if slices.Contains(p.Channels, ChannelWebhook) && d.f.Units[ui].Webhook == nil {
			return nil, fail("bad_ref", entry, "channel webhook but unit %q has no webhook", p.Unit)
		}
		d.members[p.Unit] = append(d.members[p.Unit], i)
		d.f.People[i] = p
	}
	for _, p := range d.f.People {
		if p.Superior == "" {
			continue
		}
		if _, ok := d.people[p.Superior]; !ok || p.Superior == p.ID {
			return nil, fail("bad_ref", "people "+p.ID, "superior %q is not another person", p.Superior)
		}
	}
	for i, u := range d.f.Units {
		entry := fmt.Sprintf("units[%d] %s", i, u.ID)
		if u.Parent != "" {
			pi, ok := d.units[u.Parent]
			if !ok || d.f.Units[pi].ID != u.Parent || u.Parent == u.ID {
				return nil, fail("bad_ref", entry, "parent %q is not another unit id", u.Parent)
			}
		}
		if u.Head != "" {
			pi, ok := d.people[u.Head]
			if !ok || d.f.People[pi].Unit != u.ID {
				return nil, fail("bad_ref", entry, "head %q is not a person of the unit", u.Head)
			}
		}
	}
	if err := d.checkCycles(); err != nil {
		return nil, err
	}
	for _, ids := range d.members {
		sort.Slice(ids, func(a, b int) bool { return d.f.People[ids[a]].ID < d.f.People[ids[b]].ID })
	}
	if len(f.Levels) != 4 {
		return nil, fail("bad_levels", "levels", "one rule for each of the levels 1 to 4")
	}
	d.f.Levels = make([]LevelRule, len(f.Levels))
	for i, l := range f.Levels {
		entry := fmt.Sprintf("levels[%d]", i)
		if l.Level < 1 || l.Level > 4 {
			return nil, fail("bad_levels", entry, "level %d is not 1 to 4", l.Level)
		}
		if _, dup := d.levels[l.Level]; dup {
			return nil, fail("bad_levels", entry, "level %d twice", l.Level)
		}
		if len(l.Groups) == 0 || len(l.Groups) > MaxList {
			return nil, fail("bad_levels", entry, "1 to %d groups", MaxList)
		}
		for _, g := range l.Groups {
			if !slices.Contains(Reasons, g) {
				return nil, fail("bad_levels", entry, "unknown group %q", g)
			}
		}
		l.Groups = slices.Clone(l.Groups)
		d.levels[l.Level] = l.Groups
		d.f.Levels[i] = l
	}
	return d, nil
}

// checkCycles refuses a parent chain or a superior chain that comes back.
func (d *Directory) checkCycles() error {
	for _, u := range d.f.Units {
		seen := map[string]bool{}
		for id := u.ID; id != ""; id = d.f.Units[d.units[id]].Parent {
			if seen[id] {
				return fail("bad_ref", "units "+u.ID, "the parent chain comes back to %q", id)
			}
			seen[id] = true
		}
	}
	for _, p := range d.f.People {
		seen := map[string]bool{}
		for id := p.ID; id != ""; id = d.f.People[d.people[id]].Superior {
			if seen[id] {
				return fail("bad_ref", "people "+p.ID, "the superior chain comes back to %q", id)
			}
			seen[id] = true
		}
	}
	return nil
}

func clip(s string) string {
	if len(s) > MaxID {
		s = s[:MaxID]
	}
	return strings.ToValidUTF8(s, "?")
}

func checkID(s string) bool {
	if s == "" || len(s) > MaxID {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func checkText(s string, max int) bool {
	return len(s) <= max && utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' })
}

func checkList(code, entry, what string, l []string, known []string) error {
	if len(l) > MaxList {
		return fail(code, entry, "at most %d %s", MaxList, what)
	}
	for _, v := range l {
		if known != nil && !slices.Contains(known, v) {
			return fail(code, entry, "unknown %s %q (one of %s)", what, v, strings.Join(known, ", "))
		}
		if v == "" || !checkText(v, MaxText) {
			return fail(code, entry, "a %s is 1 to %d bytes of text", what, MaxText)
		}
	}
	return nil
}

func checkUnit(u *Unit, entry string) error {
	if !checkID(u.ID) {
		return fail("bad_unit", entry, "an id is 1 to %d of a-z 0-9 _ - .", MaxID)
	}
	if u.Name == "" || !checkText(u.Name, MaxText) || u.NameEn == "" || !checkText(u.NameEn, MaxText) {
		return fail("bad_unit", entry, "name and name_en are 1 to %d bytes of text", MaxText)
	}
	if !slices.Contains(Kinds, u.Kind) {
		return fail("bad_unit", entry, "unknown kind %q", u.Kind)
	}
	for i, dm := range u.Domains {
		u.Domains[i] = NormalDomain(dm)
	}
	if err := checkList("bad_unit", entry, "domain", u.Domains, Domains); err != nil {
		return err
	}
	if err := checkList("bad_unit", entry, "district", u.Districts, nil); err != nil {
		return err
	}
	if (u.Kind == KindDepartment || u.Kind == KindExpertGroup) && len(u.Domains) == 0 {
		return fail("bad_unit", entry, "a %s covers at least one domain", u.Kind)
	}
	if u.Kind == KindDistrict && len(u.Districts) == 0 {
		return fail("bad_unit", entry, "a district unit covers at least one district")
	}
	if w := u.Webhook; w != nil {
		if !(strings.HasPrefix(w.URL, "https://") || strings.HasPrefix(w.URL, "http://")) || len(w.URL) > MaxURL || !checkText(w.URL, MaxURL) {
			return fail("bad_unit", entry, "a webhook url is http(s), at most %d bytes", MaxURL)
		}
		if !checkID(w.Secret) {
			return fail("bad_unit", entry, "a webhook names its secret (1 to %d of a-z 0-9 _ - .)", MaxID)
		}
	}
	return nil
}

func checkPerson(p *Person, entry string) error {
	if !checkID(p.ID) {
		return fail("bad_person", entry, "an id is 1 to %d of a-z 0-9 _ - .", MaxID)
	}
	if p.Name == "" || !checkText(p.Name, MaxText) || !checkText(p.Title, MaxText) || !checkText(p.Phone, MaxText) {
		return fail("bad_person", entry, "name (needed), title and phone are at most %d bytes of text", MaxText)
	}
	if p.Login != "" && (len(p.Login) > MaxID || !checkText(p.Login, MaxID)) {
		return fail("bad_person", entry, "a login is at most %d bytes", MaxID)
	}
	if len(p.Channels) == 0 || len(p.Channels) > len(Channels) {
		return fail("bad_person", entry, "1 to %d channels", len(Channels))
	}
	for i, c := range p.Channels {
		if !slices.Contains(Channels, c) || slices.Contains(p.Channels[:i], c) {
			return fail("bad_person", entry, "unknown or repeated channel %q", c)
		}
		switch {
		case c == ChannelInApp && p.Login == "":
			return fail("bad_person", entry, "channel in_app needs a login")
		case (c == ChannelSMS || c == ChannelVoice) && p.Phone == "":
			return fail("bad_person", entry, "channel %s needs a phone", c)
		}
	}
	for i, dm := range p.Expertise {
		p.Expertise[i] = NormalDomain(dm)
	}
	return checkList("bad_person", entry, "expert domain", p.Expertise, Domains)
}

//go:embed sample.json
var sample []byte

// Default returns the directory of the sample city (sample.json).
func Default() *Directory {
	d, err := Read(bytes.NewReader(sample))
	if err != nil {
		panic("directory: the embedded sample is invalid: " + err.Error())
	}
	return d
}

// Sample returns the JSON of the sample city's directory.
func Sample() []byte { return slices.Clone(sample) }

// File returns a copy of the directory in its file form.
func (d *Directory) File() File {
	f := File{Units: make([]Unit, len(d.f.Units)), People: make([]Person, len(d.f.People)), Levels: make([]LevelRule, len(d.f.Levels))}
	for i := range d.f.Units {
		f.Units[i] = d.unit(i)
	}
	for i := range d.f.People {
		f.People[i] = d.person(i)
	}
	for i, l := range d.f.Levels {
		l.Groups = slices.Clone(l.Groups)
		f.Levels[i] = l
	}
	return f
}

func (d *Directory) unit(i int) Unit {
	u := d.f.Units[i]
	u.Domains, u.Districts = slices.Clone(u.Domains), slices.Clone(u.Districts)
	if u.Webhook != nil {
		w := *u.Webhook
		u.Webhook = &w
	}
	return u
}

func (d *Directory) person(i int) Person {
	p := d.f.People[i]
	p.Channels, p.Expertise = slices.Clone(p.Channels), slices.Clone(p.Expertise)
	return p
}

// Unit returns the unit with an id or a name.
func (d *Directory) Unit(idOrName string) (Unit, bool) {
	i, ok := d.units[idOrName]
	if !ok {
		return Unit{}, false
	}
	return d.unit(i), true
}

// Person returns the person with id.
func (d *Directory) Person(id string) (Person, bool) {
	i, ok := d.people[id]
	if !ok {
		return Person{}, false
	}
	return d.person(i), true
}

// ByLogin returns the person with an onemap login.
func (d *Directory) ByLogin(login string) (Person, bool) {
	i, ok := d.byLogin[login]
	if !ok || login == "" {
		return Person{}, false
	}
	return d.person(i), true
}

// Members returns the people of a unit, by id.
func (d *Directory) Members(unitID string) []Person {
	out := make([]Person, 0, len(d.members[unitID]))
	for _, i := range d.members[unitID] {
		out = append(out, d.person(i))
	}
	return out
}

// Superior returns whom to escalate to from person id: their superior;
// else the head of their unit when that is someone else; else the head
// of the nearest unit above that has one.
func (d *Directory) Superior(id string) (Person, bool) {
	i, ok := d.people[id]
	if !ok {
		return Person{}, false
	}
	p := d.f.People[i]
	if p.Superior != "" {
		return d.Person(p.Superior)
	}
	for uid := p.Unit; uid != ""; {
		u := d.f.Units[d.units[uid]]
		if u.Head != "" && u.Head != id {
			return d.Person(u.Head)
		}
		uid = u.Parent
	}
	return Person{}, false
}

// Groups returns the groups told of a warning of level (1..4); nil for
// another level.
func (d *Directory) Groups(level int) []Reason { return slices.Clone(d.levels[level]) }

// Masked returns a copy of the directory for a reader without
// contacts.read: every person's name and phone masked by the rule of
// layers.MaskPersonal (王建伟 → 王**, 13812345678 → 138****5678).
func (d *Directory) Masked() *Directory {
	m := *d
	m.f = d.File()
	for i := range m.f.People {
		m.f.People[i] = m.f.People[i].Masked()
	}
	return &m
}

// Masked returns p with name and phone masked (layers.MaskPersonal).
func (p Person) Masked() Person {
	p.Name = layers.MaskPersonal(layers.MaskName, p.Name)
	p.Phone = layers.MaskPersonal(layers.MaskPhone, p.Phone)
	return p
}
