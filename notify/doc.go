// Package notify delivers a published warning, its re-issue or its
// release to the recipients the directory names, and follows each
// delivery to its receipt: queued → sent → delivered → read → replied, or
// failed with the last error.
//
// A Channel sends one message: InApp (the login's onemap inbox, with a
// hook for the live channel), Webhook (a signed JSON POST to the unit's
// system, HMAC-SHA256 per RFC 2104) and SMS over an SMSGateway (FakeSMS
// for tests; no provider is built in). A Dispatcher gives each delivery a
// stable id (DeliveryID) so that a repeat never sends twice, sends through
// a bounded pool of workers, retries with exponential back-off and jitter,
// takes receipts only from the recipient's login, and escalates (督办) what
// stays unread or unreplied past the level's deadline to the recipient's
// superior (Tick, from the caller's clock).
//
// Every change is an Event recorded through a Journal before it is
// applied; Load rebuilds the state from the events and resumes what was
// left unsent. The package opens no file or table and knows nothing of
// HTTP routes; every clock is injected. See docs/notify.md.
package notify
