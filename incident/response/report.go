package response

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/onemap/onemap/incident"
)

//go:embed report.html
var reportHTML string

// reportZone is the zone the report writes times in: China Standard Time.
var reportZone = time.FixedZone("CST", 8*3600)

var reportWords = map[string]map[string]string{
	"zh": {
		"title": "事件处置报告", "incident": "事件", "state": "状态", "opened": "开立", "updated": "最后更新",
		"alarms": "报警", "steps": "处置过程", "time": "时间", "who": "人员", "role": "角色", "step": "环节", "reason": "说明",
		"versions": "预警发布", "version": "版本", "level": "级别", "headline": "标题", "location": "位置",
		"surroundings": "周边情况", "instructions": "警示事项", "issued": "发布时间", "signer": "签发人", "drafter": "起草人",
		"deliveries": "推送与回执", "recipient": "接收人", "channel": "渠道", "delivery_state": "状态", "reply": "回复",
		"plan": "处置预案", "tasks": "任务", "task": "任务", "assignee": "责任人", "deadline": "时限",
		"feedback": "现场反馈", "photos": "照片", "measures": "措施要点", "cautions": "注意事项", "none": "无",
		"released": "解除时间", "generated": "报告生成", "sensor": "监测点", "peak": "峰值", "changes": "变化",
	},
	"en": {
		"title": "Incident report", "incident": "Incident", "state": "State", "opened": "Opened", "updated": "Last updated",
		"alarms": "Alarms", "steps": "Steps", "time": "Time", "who": "Who", "role": "Role", "step": "Step", "reason": "Why",
		"versions": "Warnings published", "version": "Version", "level": "Level", "headline": "Headline", "location": "Location",
		"surroundings": "Surroundings", "instructions": "Instructions", "issued": "Issued", "signer": "Signed by", "drafter": "Drafted by",
		"deliveries": "Push and receipts", "recipient": "Recipient", "channel": "Channel", "delivery_state": "State", "reply": "Reply",
		"plan": "Plan", "tasks": "Tasks", "task": "Task", "assignee": "Assignee", "deadline": "Deadline",
		"feedback": "Field reports", "photos": "Photos", "measures": "Measures", "cautions": "Cautions", "none": "none",
		"released": "Released", "generated": "Report made", "sensor": "Sensor", "peak": "Peak", "changes": "Changes",
	},
}

var stateWords = map[string]map[incident.State]string{
	"zh": {incident.Verifying: "核实中", incident.Confirmed: "已确认", incident.WarningDraft: "预警起草", incident.InReview: "审核中",
		incident.Signed: "已签发", incident.Published: "已发布", incident.Responding: "处置中", incident.Resolved: "已处置",
		incident.Released: "已解除", incident.Archived: "已归档", incident.FalseAlarm: "误报", incident.Merged: "已合并"},
	"en": {incident.Verifying: "verifying", incident.Confirmed: "confirmed", incident.WarningDraft: "warning drafted", incident.InReview: "in review",
		incident.Signed: "signed", incident.Published: "published", incident.Responding: "responding", incident.Resolved: "resolved",
		incident.Released: "released", incident.Archived: "archived", incident.FalseAlarm: "false alarm", incident.Merged: "merged"},
}

// valueWords name, in Chinese, the codes the report shows: roles, alarm
// changes, delivery states, channels and kinds, task states.
var valueWords = map[string]string{
	"operator": "值班员", "analyst": "研判分析员", "commander": "指挥签发", "responder": "现场处置", "unit": "权属单位",
	"viewer": "查看", "admin": "管理员",
	"raised": "报警", "escalated": "升级", "de-escalated": "降级", "cleared": "报警解除", "acknowledged": "确认",
	"queued": "排队", "sent": "已发送", "delivered": "已送达", "read": "已读", "replied": "已回复", "failed": "失败",
	"in_app": "站内消息", "sms": "短信", "voice": "语音", "webhook": "接口推送", "warning": "预警", "release": "解除",
	"pending": "待分派", "assigned": "已分派", "accepted": "已接收", "en_route": "在途", "arrived": "已到场",
	"done": "已完成", "cancelled": "已取消",
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"t": func(lang, key string) string { return reportWords[lang][key] },
	// v names a code in lang: Chinese words, or the code itself in English.
	"v": func(lang string, code any) string {
		c := fmt.Sprint(code)
		if w, ok := valueWords[c]; ok && lang != "en" {
			return w
		}
		return strings.ReplaceAll(c, "_", " ")
	},
	"state": func(lang string, s incident.State) string {
		if w, ok := stateWords[lang][s]; ok {
			return w
		}
		return string(s)
	},
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(reportZone).Format("2006-01-02 15:04:05")
	},
	"level": func(lang string, l incident.Level) string {
		zh, en := incident.LevelColour(l)
		if lang == "en" {
			return fmt.Sprintf("%s (%s)", l, en)
		}
		return fmt.Sprintf("%s 级（%s）", l, zh)
	},
	"pick": func(lang, zh, en string) string {
		if lang == "en" && en != "" {
			return en
		}
		return zh
	},
}).Parse(reportHTML))

// WriteHTML writes the record as a printable page in lang ("zh", the
// default, or "en").
func WriteHTML(w io.Writer, r *Record, lang string) error {
	if lang != "en" {
		lang = "zh"
	}
	return reportTemplate.Execute(w, map[string]any{"R": r, "L": lang, "Now": time.Now()})
}
