package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/store"
	"github.com/onemap/onemap/tiles"
	"github.com/onemap/onemap/wal"
)

// storageRetryAfter is what a client refused for a full or failing disk is
// told to wait: the journal probes every second, a person frees space in
// minutes.
const storageRetryAfter = 5 * time.Second

// apiError is an error with its code and HTTP status.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// RetryAfter, if set, is sent as the Retry-After header.
	RetryAfter time.Duration `json:"-"`
	// State and Allowed, of a bad_transition: the incident's state and
	// the states it may go to.
	State   string   `json:"state,omitempty"`
	Allowed []string `json:"allowed,omitempty"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// maxMessage bounds an error message, in characters.
const maxMessage = 300

// classify turns a domain error into its code and status; anything it does
// not know is internal.
func classify(err error) *apiError {
	var ae *apiError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, tiles.ErrZoom):
		return errorf(CodeBadZoom, err.Error())
	case errors.Is(err, tiles.ErrTileXY):
		return errorf(CodeBadTile, err.Error())
	case errors.Is(err, tiles.ErrTilePath):
		return errorf(CodeBadPath, err.Error())
	case errors.Is(err, layers.ErrUnknownLayer):
		return errorf(CodeUnknownLayer, err.Error())
	case errors.Is(err, live.ErrNoAlarm):
		return errorf(CodeNotFound, err.Error())
	case errors.Is(err, store.ErrNotFound):
		return errorf(CodeNotFound, err.Error())
	case errors.Is(err, wal.ErrNoSpace):
		ae := errorf(CodeStorageFull, "the server's disk is full: nothing of this request was stored; send it again later")
		ae.RetryAfter = storageRetryAfter
		return ae
	case errors.Is(err, wal.ErrFailed):
		ae := errorf(CodeUnavailable, "the server cannot write to its disk: nothing of this request was stored; send it again later")
		ae.RetryAfter = storageRetryAfter
		return ae
	case errors.Is(err, context.DeadlineExceeded):
		return errorf(CodeTimeout, "the request took too long")
	case errors.As(err, &he):
		switch he.Code {
		case http.StatusNotFound:
			return errorf(CodeNotFound, "no such resource")
		case http.StatusMethodNotAllowed:
			return errorf(CodeMethodNotAllowed, "method not allowed")
		case http.StatusRequestEntityTooLarge:
			return errorf(CodeTooLarge, "request body too large")
		}
		if he.Code < 500 {
			return errorf(CodeBadRequest, http.StatusText(he.Code))
		}
	}
	return errorf(CodeInternal, "internal error")
}

// errorHandler writes every error as {"error": {"code", "message"}}; internal
// errors are logged and shown to the client only as "internal error".
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		ae := classify(err)
		if ae.RetryAfter > 0 {
			// Whole seconds, rounded up: a wait under a second is 1, not 0.
			c.Response().Header().Set("Retry-After", strconv.Itoa(int((ae.RetryAfter+time.Second-1)/time.Second)))
		}
		// A full or failing disk is logged by the journal when it starts and
		// ends, not once a request.
		if ae.Status >= 500 && ae.RetryAfter == 0 && !errors.Is(err, context.Canceled) {
			log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		}
		if errors.Is(err, context.Canceled) {
			return // the client went away; nobody reads an answer
		}
		var body struct {
			Error *apiError `json:"error"`
		}
		// A message may quote what the client sent; it is never more than
		// a line, whatever that was.
		msg := []rune(ae.Message)
		if len(msg) > maxMessage {
			ae = &apiError{Status: ae.Status, Code: ae.Code, Message: string(msg[:maxMessage]) + "…", RetryAfter: ae.RetryAfter}
		}
		body.Error = ae
		if c.Request().Method == http.MethodHead {
			c.NoContent(ae.Status)
			return
		}
		c.JSON(ae.Status, body)
	}
}
