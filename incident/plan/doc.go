// Package plan holds the response plans (预案) of the linked response of
// the national guide for city safety-risk monitoring platforms (§六): for
// an incident type and a range of warning levels, the tasks to be done and
// by whom and when, and the knowledge points — measures (措施要点) and
// cautions (注意事项). Plans are data (plans.json, format in docs/plans.md).
//
// A Board opens a plan on an incident when its warning is published,
// making the plan's tasks with deadlines from the publication. A commander
// assigns them; the assignee takes each through accepted, en route,
// arrived and done; late tasks are escalated step by step (Overdue).
// Responders send field reports (text, photos, position) and their
// positions. Every change is an Event, journalled before it is applied
// through a Journal, and Load rebuilds the state from the events alone.
//
// The package knows nothing of HTTP; every clock is injected.
package plan
