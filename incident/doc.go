// Package incident holds what a command centre does with confirmed alarms,
// the linked response of the national guide for city safety-risk monitoring
// platforms (§六): verification, the warning (draft, review, signing,
// publication and re-issue, every version kept), response, release and
// archive.
//
// An incident is a sequence of events; its state is rebuilt from them alone
// (Rebuild), and Apply, which takes one event to the next state, refuses
// what the transition table (Transitions) does not allow with a
// *TransitionError. A Book keeps the incidents in memory and takes each
// event through a Journal first, then applies it, so that what was
// journalled is what a start rebuilds. Who may review and sign a warning of
// a level is a table (Approvals), checked by the Book, not by Apply, so that
// a change of roles never changes the history. The rules of the loop that
// hold whatever the roles — a signer never signs a warning they drafted, a
// reviewer never reviews their own — are in Apply.
//
// Propose groups alarms on one asset within ten minutes into proposed
// incidents; SuggestLevel grades a warning from a data rule (default
// level.json, format in docs/incidents.md).
//
// The package knows nothing of HTTP; every clock is injected.
package incident
