package stats

import (
	"testing"
	"time"
)

func benchAlarms(n int) []Alarm {
	domains := []string{"gas", "water", "drainage", "heating", "bridge", "tunnel"}
	districts := []string{"玄武区", "秦淮区", "建邺区", "鼓楼区", "浦口区", "栖霞区", "雨花台区", "江宁区", "六合区", "溧水区", "高淳区"}
	kinds := []string{"ch4_detector", "pressure_gauge", "flow_meter", "level_gauge"}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	as := make([]Alarm, n)
	for i := range as {
		as[i] = Alarm{ID: uint64(i + 1), Sensor: uint64(i%20000 + 1), SensorKind: kinds[i%len(kinds)],
			Rule: "ch4_lel", Domain: domains[i%len(domains)], District: districts[i%len(districts)], Level: i%4 + 1,
			Started: t0.Add(time.Duration(i) * 31 * time.Second), Verified: i%3 == 0, FalseAlarm: i%7 == 0}
	}
	return as
}

func BenchmarkCountAlarms1M(b *testing.B) {
	as := benchAlarms(1_000_000)
	q := Query{GroupBy: Day, By: ByDistrict, From: time.Date(2026, 1, 1, 0, 0, 0, 0, shanghai), To: time.Date(2027, 1, 1, 0, 0, 0, 0, shanghai)}
	b.ResetTimer()
	for b.Loop() {
		if _, err := CountAlarms(as, q); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFalseAlarmRates1M(b *testing.B) {
	as := benchAlarms(1_000_000)
	q := RateQuery{By: BySensor, From: time.Date(2026, 1, 1, 0, 0, 0, 0, shanghai), To: time.Date(2027, 1, 1, 0, 0, 0, 0, shanghai)}
	b.ResetTimer()
	for b.Loop() {
		if _, err := FalseAlarmRates(as, q); err != nil {
			b.Fatal(err)
		}
	}
}
