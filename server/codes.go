package server

import "net/http"

// Error codes: stable strings a client may branch on. Each is declared here
// once, with its HTTP status and meaning in codeList; README.md's error table
// lists the same (a test holds them together).
const (
	CodeBadRequest       = "bad_request"
	CodeBadZoom          = "bad_zoom"
	CodeBadTile          = "bad_tile"
	CodeBadPath          = "bad_path"
	CodeBadPoint         = "bad_point"
	CodeBadRadius        = "bad_radius"
	CodeBadBBox          = "bad_bbox"
	CodeBadID            = "bad_id"
	CodeTooManyLayers    = "too_many_layers"
	CodeUnknownParameter = "unknown_parameter"
	CodeBadFilter        = "bad_filter"
	CodeBadDatetime      = "bad_datetime"
	CodeBadBody          = "bad_body"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeBadOrigin        = "bad_origin"
	CodeCSRF             = "csrf"
	CodeBadCredentials   = "bad_credentials"
	CodeLocked           = "locked"
	CodeTooManyRequests  = "too_many_requests"
	CodeLoginTaken       = "login_taken"
	CodeUnknownLayer     = "unknown_layer"
	CodeUnknownFont      = "unknown_font"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeBodyTimeout      = "body_timeout"
	CodeTooLarge         = "too_large"
	CodeTooManyReadings  = "too_many_readings"
	CodeNotAPipe         = "not_a_pipe"
	CodeNotAValve        = "not_a_valve"
	CodeBadRules         = "bad_rules"
	CodeBadTransition    = "bad_transition"
	CodeBadStep          = "bad_step"
	CodeOwnDraft         = "own_draft"
	CodeConflict         = "conflict"
	CodeBadType          = "bad_type"
	CodeInternal         = "internal"
	CodeUnavailable      = "unavailable"
	CodeTimeout          = "timeout"
	CodeNotReady         = "not_ready"
	// CodeStorageFull answers a write while the disk the journal is on is full.
	CodeStorageFull = "storage_full"

	// Codes of error messages on the live channel, /ws (docs/websocket.md).
	CodeBadMessage      = "bad_message"
	CodeUnknownType     = "unknown_type"
	CodeBadSubscription = "bad_subscription"
	CodeRateLimited     = "rate_limited"
)

// codeInfo is what a code means: the HTTP status it is sent with (0 for a
// message on /ws) and when.
type codeInfo struct {
	Code   string
	Status int
	When   string
}

// codeList is every error code the server sends.
var codeList = []codeInfo{
	{CodeBadRequest, http.StatusBadRequest, "a malformed parameter or body the other codes do not name"},
	{CodeBadZoom, http.StatusBadRequest, "zoom outside 0–24"},
	{CodeBadTile, http.StatusBadRequest, "x or y outside the zoom's range"},
	{CodeBadPath, http.StatusBadRequest, "a malformed tile, glyph or TileJSON path"},
	{CodeBadPoint, http.StatusBadRequest, "lon or lat missing, not a finite number or out of range"},
	{CodeBadRadius, http.StatusBadRequest, "a radius or distance missing, not a finite number or out of range"},
	{CodeBadBBox, http.StatusBadRequest, "a bbox that is not minLon,minLat,maxLon,maxLat of finite degrees, min below max"},
	{CodeBadID, http.StatusBadRequest, "an id that is not a positive whole number"},
	{CodeTooManyLayers, http.StatusBadRequest, "a layer list longer than the catalog"},
	{CodeUnknownParameter, http.StatusBadRequest, "an OGC API items parameter that is neither a standard one nor an attribute of the layer one may select by"},
	{CodeBadFilter, http.StatusBadRequest, "an attribute filter whose value is not of the attribute's type (a number, true or false)"},
	{CodeBadDatetime, http.StatusBadRequest, "a datetime that is not an RFC 3339 date-time, a date or an interval of them, start before end"},
	{CodeBadBody, http.StatusBadRequest, "a body that is not readings (or breaks off); what came before is accepted"},
	{CodeUnauthorized, http.StatusUnauthorized, "no credentials, or ones not valid (a wrong or revoked token), where the route needs them: log in or send a token"},
	{CodeForbidden, http.StatusForbidden, "credentials without the permission the route needs"},
	{CodeBadOrigin, http.StatusForbidden, "a page of another origin writing, logging in or opening /ws (see --allowed-origins)"},
	{CodeCSRF, http.StatusForbidden, "a write with the session cookie but without the session's X-CSRF-Token"},
	{CodeBadCredentials, http.StatusUnauthorized, "a login with a wrong login or password"},
	{CodeLocked, http.StatusTooManyRequests, "a login while its name or address waits after failed ones; Retry-After says how long"},
	{CodeTooManyRequests, http.StatusTooManyRequests, "logins from one address or batches of one token over their rate; Retry-After says how long"},
	{CodeLoginTaken, http.StatusConflict, "a new user with a login in use"},
	{CodeUnknownLayer, http.StatusNotFound, "a layer the catalog does not have"},
	{CodeUnknownFont, http.StatusNotFound, "a font stack the server does not have"},
	{CodeNotFound, http.StatusNotFound, "no such resource"},
	{CodeMethodNotAllowed, http.StatusMethodNotAllowed, "a method the route does not take"},
	{CodeBodyTimeout, http.StatusRequestTimeout, "a body that did not arrive in time (of readings: what came before is accepted)"},
	{CodeTooLarge, http.StatusRequestEntityTooLarge, "a body over its limit (16 MiB of readings, 4 MiB of rules)"},
	{CodeTooManyReadings, http.StatusRequestEntityTooLarge, "a batch of more than 50,000 readings; the first 50,000 are taken"},
	{CodeNotAPipe, http.StatusUnprocessableEntity, "valve closure asked of something that is not a pressurised pipe"},
	{CodeNotAValve, http.StatusUnprocessableEntity, "a failed valve that is not a valve"},
	{CodeBadRules, http.StatusUnprocessableEntity, "a rules file refused whole, with its line and reason"},
	{CodeBadTransition, http.StatusConflict, "an incident step its state does not allow; state and allowed name where it is and where it may go"},
	{CodeBadStep, http.StatusUnprocessableEntity, "an incident step the loop's rules refuse (a false alarm without a cause, a warning incomplete); the message starts with the rule's code"},
	{CodeOwnDraft, http.StatusForbidden, "a review or signature of one's own draft"},
	{CodeBadType, http.StatusUnsupportedMediaType, "an attachment that is not a JPEG, PNG or WebP image (read from its bytes)"},
	{CodeConflict, http.StatusConflict, "an alarm already in an open incident, a record for an archived or merged incident, a signature before a review"},
	{CodeInternal, http.StatusInternalServerError, "a fault of the server, logged"},
	{CodeUnavailable, http.StatusServiceUnavailable, "readings could not be stored; send them again"},
	{CodeTimeout, http.StatusServiceUnavailable, "the request took too long"},
	{CodeNotReady, http.StatusServiceUnavailable, "the store cannot answer yet"},
	{CodeStorageFull, http.StatusInsufficientStorage, "the server's disk is full: nothing of the request was stored; send it again later"},

	{CodeBadMessage, 0, "not a JSON object with a type"},
	{CodeUnknownType, 0, "a type other than subscribe and ping"},
	{CodeBadSubscription, 0, "no or unknown topics, no region or two, a region or zoom out of range"},
	{CodeRateLimited, 0, "more than 20 messages in a second; the message was dropped"},
}

// statusOf maps each code to its HTTP status.
var statusOf = func() map[string]int {
	m := make(map[string]int, len(codeList))
	for _, c := range codeList {
		if _, dup := m[c.Code]; dup {
			panic("server: error code " + c.Code + " declared twice")
		}
		m[c.Code] = c.Status
	}
	return m
}()

// errorf returns the error of a code, with its status from codeList; a code
// not in the list is a fault of the server.
func errorf(code, msg string) *apiError {
	st, ok := statusOf[code]
	if !ok || st == 0 {
		return &apiError{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error"}
	}
	return &apiError{Status: st, Code: code, Message: msg}
}
