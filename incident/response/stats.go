package response

import (
	"time"

	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/incident/stats"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/notify"
)

// StatsInputs are the records the statistics count (报警分析): every alarm
// the live state keeps, with its sensor's kind, the rule that raised it and
// how its incident verified it, and every incident with its steps and its
// first receipt. An alarm or incident admitted by keep (nil: all) counts.
func (d *Desk) StatsInputs(svc *live.Service, sensors *live.Sensors, keep func(sensor uint64) bool) ([]stats.Alarm, []stats.Incident) {
	rules := map[uint64]*live.RuleSet{}
	ruleOf := func(a *live.Alarm, sn *live.Sensor) string {
		rs, ok := rules[a.RuleVersion]
		if !ok {
			if b, err := svc.RulesJSON(a.RuleVersion); err == nil {
				rs, _ = live.ParseRules(b)
			}
			rules[a.RuleVersion] = rs
		}
		if rs == nil || sn == nil {
			return ""
		}
		return stats.RuleID(rs.Lookup(a.Metric, a.AssetLayer, sn.AssetKind, a.Sensor))
	}
	type verdict struct {
		false bool
		cause string
	}
	verdicts := map[uint64]verdict{}
	var incs []stats.Incident
	for _, in := range d.Book.List() {
		var evs []incident.Event
		for _, r := range d.Book.Records(in.ID) {
			if r.Kind == incident.KindStep {
				if ev, err := incident.DecodeEvent(r.Data); err == nil {
					evs = append(evs, ev)
				}
			}
		}
		if in.State == incident.Merged {
			continue
		}
		site, ok := d.Sites.Site(&in)
		if !ok || keep != nil && len(in.Alarms) > 0 && !keepAlarm(svc, keep, in.Alarms[0]) {
			continue
		}
		rec := stats.FromIncident(in, evs)
		rec.Domain, rec.District = site.Domain, site.District
		rec.Receipt = firstReceipt(d.Notify.Deliveries(in.ID))
		incs = append(incs, rec)
		if in.Outcome == incident.OutcomeConfirmed || in.Outcome == incident.OutcomeFalseAlarm {
			for _, a := range in.Alarms {
				verdicts[a] = verdict{false: in.Outcome == incident.OutcomeFalseAlarm, cause: string(in.Cause)}
			}
		}
	}
	var alarms []stats.Alarm
	for _, a := range svc.Alarms(live.AlarmFilter{Sensor: keep}) {
		sn, _ := sensors.Get(a.Sensor)
		kind := ""
		if sn != nil {
			kind = sn.Kind
		}
		rec := stats.FromLive(&a, kind, ruleOf(&a, sn))
		if v, ok := verdicts[a.ID]; ok {
			rec.Verified, rec.FalseAlarm, rec.Cause = true, v.false, v.cause
		}
		alarms = append(alarms, rec)
	}
	return alarms, incs
}

func keepAlarm(svc *live.Service, keep func(uint64) bool, id uint64) bool {
	a, err := svc.Alarm(id)
	return err == nil && keep(a.Sensor)
}

// firstReceipt is the earliest a recipient read or replied to a delivery.
func firstReceipt(dels []notify.Delivery) time.Time {
	var first time.Time
	for _, d := range dels {
		for _, t := range []time.Time{d.ReadAt, d.RepliedAt} {
			if !t.IsZero() && (first.IsZero() || t.Before(first)) {
				first = t
			}
		}
	}
	return first
}
