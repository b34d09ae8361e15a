package directory

import (
	"slices"
	"sort"
)

// Query is what a warning tells Resolve about itself.
type Query struct {
	Domain string // the domain of the asset at risk, such as "gas"
	// OwnerUnit is the owning unit of the asset at risk, a unit name or id.
	OwnerUnit string
	// Districts are the districts the impact area touches.
	Districts []string
	// UnitsInArea are the owners (names or ids) of assets and targets
	// inside the impact area.
	UnitsInArea []string
	Level       int // 1..4 (I..IV)
}

// Recipient is a person to tell, why and by which channels.
type Recipient struct {
	Person   Person    `json:"person"`
	UnitName string    `json:"unit_name"`
	Reasons  []Reason  `json:"reasons"`
	Channels []Channel `json:"channels"`
	// Webhook is the person's unit's webhook when Channels has webhook.
	Webhook *Webhook `json:"webhook,omitempty"`
}

// Masked returns r with the person's name and phone masked.
func (r Recipient) Masked() Recipient {
	r.Person = r.Person.Masked()
	return r
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// within says whether a unit limited to some districts is concerned by a
// query's districts; a unit without districts covers all.
func within(u *Unit, districts []string) bool {
	return len(u.Districts) == 0 || overlaps(u.Districts, districts)
}

// Resolve returns whom to tell of a warning: the people of the units of
// the groups the query's level names (Groups), each once with every reason
// they were chosen for and their channels. The order is fixed: by the
// first reason (in the order of Reasons), then unit id, then person id.
// An unknown level or a level without rule gives nil. Experts are the
// people of an expert group of the domain whose expert domains, when they
// list any, include it.
func (d *Directory) Resolve(q Query) []Recipient {
	groups := d.levels[q.Level]
	if len(groups) == 0 {
		return nil
	}
	domain := NormalDomain(q.Domain)
	type pick struct {
		reasons []Reason
	}
	picked := map[int]*pick{}
	add := func(pi int, r Reason) {
		p := picked[pi]
		if p == nil {
			p = &pick{}
			picked[pi] = p
		}
		if !slices.Contains(p.reasons, r) {
			p.reasons = append(p.reasons, r)
		}
	}
	addUnit := func(ui int, r Reason) {
		for _, pi := range d.members[d.f.Units[ui].ID] {
			if r == ReasonExpert {
				if ex := d.f.People[pi].Expertise; len(ex) > 0 && !slices.Contains(ex, domain) {
					continue
				}
			}
			add(pi, r)
		}
	}
	for _, g := range groups {
		switch g {
		case ReasonOwner:
			if ui, ok := d.units[q.OwnerUnit]; ok && q.OwnerUnit != "" {
				addUnit(ui, g)
			}
		case ReasonInArea:
			for _, name := range q.UnitsInArea {
				if ui, ok := d.units[name]; ok && name != "" {
					addUnit(ui, g)
				}
			}
		default:
			for ui := range d.f.Units {
				u := &d.f.Units[ui]
				var hit bool
				switch g {
				case ReasonDepartment:
					hit = u.Kind == KindDepartment && slices.Contains(u.Domains, domain) && within(u, q.Districts)
				case ReasonDistrict:
					hit = u.Kind == KindDistrict && overlaps(u.Districts, q.Districts)
				case ReasonEmergency:
					hit = u.Kind == KindEmergency && within(u, q.Districts)
				case ReasonExpert:
					hit = u.Kind == KindExpertGroup && slices.Contains(u.Domains, domain)
				}
				if hit {
					addUnit(ui, g)
				}
			}
		}
	}
	out := make([]Recipient, 0, len(picked))
	for pi, pk := range picked {
		p := d.person(pi)
		u := &d.f.Units[d.units[p.Unit]]
		sort.Slice(pk.reasons, func(a, b int) bool {
			return slices.Index(Reasons, pk.reasons[a]) < slices.Index(Reasons, pk.reasons[b])
		})
		r := Recipient{Person: p, UnitName: u.Name, Reasons: pk.reasons, Channels: slices.Clone(p.Channels)}
		if slices.Contains(p.Channels, ChannelWebhook) && u.Webhook != nil {
			w := *u.Webhook
			r.Webhook = &w
		}
		out = append(out, r)
	}
	sort.Slice(out, func(a, b int) bool {
		ra, rb := slices.Index(Reasons, out[a].Reasons[0]), slices.Index(Reasons, out[b].Reasons[0])
		if ra != rb {
			return ra < rb
		}
		if out[a].Person.Unit != out[b].Person.Unit {
			return out[a].Person.Unit < out[b].Person.Unit
		}
		return out[a].Person.ID < out[b].Person.ID
	})
	return out
}
