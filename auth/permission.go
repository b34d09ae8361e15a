package auth

// Permission is one thing a principal may do, such as acknowledging an alarm.
// The set of permissions is fixed by the code (a roles file may only grant the
// ones named here); roles, and so who holds which permission, are data.
type Permission uint8

// The permissions, in the order docs/auth.md lists them.
const (
	PermMapView        Permission = iota // map.view: the map, the big screen, tiles and layers
	PermAlarmsRead                       // alarms.read: alarms, sensors and their readings
	PermAlarmsAck                        // alarms.ack: acknowledge an alarm
	PermAlarmsVerify                     // alarms.verify: verify an alarm on site or by video (true/false alarm)
	PermAnalysisRun                      // analysis.run: impact, valve closure and other analyses
	PermWarningsDraft                    // warnings.draft: draft a warning (takes a level)
	PermWarningsReview                   // warnings.review: review another's draft (takes a level)
	PermWarningsSign                     // warnings.sign: sign a warning for release (takes a level)
	PermTasksFeedback                    // tasks.feedback: report on an assigned field task
	PermUnitsReply                       // units.reply: receive, confirm and answer as an owning unit
	PermContactsRead                     // contacts.read: contact names and phone numbers unmasked
	PermRulesWrite                       // rules.write: replace the alarm rules
	PermUsersAdmin                       // users.admin: add, change and disable users
	PermTokensAdmin                      // tokens.admin: issue and revoke device and integration tokens
	PermLayersWrite                      // layers.write: change the layer catalog and its features
	PermAuditRead                        // audit.read: read the audit log
	PermMetricsRead                      // metrics.read: the server's instruments, /metrics
	PermIngestWrite                      // ingest.write: send sensor readings

	numPerms
)

// permNames are the permissions' names, indexed by Permission.
var permNames = [numPerms]string{
	PermMapView:        "map.view",
	PermAlarmsRead:     "alarms.read",
	PermAlarmsAck:      "alarms.ack",
	PermAlarmsVerify:   "alarms.verify",
	PermAnalysisRun:    "analysis.run",
	PermWarningsDraft:  "warnings.draft",
	PermWarningsReview: "warnings.review",
	PermWarningsSign:   "warnings.sign",
	PermTasksFeedback:  "tasks.feedback",
	PermUnitsReply:     "units.reply",
	PermContactsRead:   "contacts.read",
	PermRulesWrite:     "rules.write",
	PermUsersAdmin:     "users.admin",
	PermTokensAdmin:    "tokens.admin",
	PermLayersWrite:    "layers.write",
	PermAuditRead:      "audit.read",
	PermMetricsRead:    "metrics.read",
	PermIngestWrite:    "ingest.write",
}

// levelled are the permissions a role may hold only up to a warning level.
var levelled = [numPerms]bool{PermWarningsDraft: true, PermWarningsReview: true, PermWarningsSign: true}

// Warning levels run from I (1, red, the most severe) to IV (4, blue).
const (
	LevelMostSevere  = 1
	LevelLeastSevere = 4
)

// String returns the permission's name, as a roles file writes it.
func (p Permission) String() string {
	if p < numPerms {
		return permNames[p]
	}
	return "unknown"
}

// Levelled reports whether the permission may be bounded by a warning level.
func (p Permission) Levelled() bool { return p < numPerms && levelled[p] }

// Permissions returns every permission in order.
func Permissions() []Permission {
	out := make([]Permission, numPerms)
	for i := range out {
		out[i] = Permission(i)
	}
	return out
}

// ParsePermission returns the permission named s.
func ParsePermission(s string) (Permission, bool) {
	for i, n := range permNames {
		if n == s {
			return Permission(i), true
		}
	}
	return 0, false
}

// permSet is a set of permissions, one bit each.
type permSet uint64

func (s permSet) has(p Permission) bool { return p < numPerms && s&(1<<p) != 0 }

// grants is what a principal may do: its permissions and, for each
// levelled one, the most severe warning level it covers (1 covers all).
type grants struct {
	perms permSet
	level [numPerms]uint8
}

// add merges g into the receiver: a permission held by either is held, at
// the wider of the two level bounds.
func (r *grants) add(g *grants) {
	for p := range numPerms {
		if !g.perms.has(p) {
			continue
		}
		if !r.perms.has(p) || g.level[p] < r.level[p] {
			r.level[p] = g.level[p]
		}
	}
	r.perms |= g.perms
}
