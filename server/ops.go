package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/server/store"
)

// storePingTimeout bounds the store check of one readiness probe, well
// under the seconds probes usually wait.
const storePingTimeout = 2 * time.Second

// readiness is the body of GET /readyz.
type readiness struct {
	Status      string      `json:"status"`
	Detail      string      `json:"detail,omitempty"`
	DataVersion string      `json:"data_version,omitempty"`
	Features    int         `json:"features"`
	Layers      int         `json:"layers"`
	LastReload  *reloadInfo `json:"last_reload,omitempty"`
}

type reloadInfo struct {
	At      time.Time `json:"at"`
	OK      bool      `json:"ok"`
	Error   string    `json:"error,omitempty"`
	Version string    `json:"data_version"`
}

// ready answers GET /readyz: 200 when the data is loaded and the strike
// store (if any) answers, else 503. A failed reload leaves the server ready (the
// previous data still serves) and is reported in last_reload.
func (h *handlers) ready(c echo.Context) error {
	if err := checkParams(c); err != nil {
		return err
	}
	d := h.current()
	r := readiness{Status: "ready", DataVersion: d.Version}
	status := http.StatusOK
	if d.Index == nil {
		r.Status, r.Detail, status = "not ready", "no data loaded", http.StatusServiceUnavailable
	} else {
		r.Features, r.Layers = d.Index.Len(), len(d.Index.Layers())
	}
	if h.cfg.Store != nil && status == http.StatusOK {
		ctx, cancel := context.WithTimeout(c.Request().Context(), storePingTimeout)
		err := h.cfg.Store.Ping(ctx)
		cancel()
		switch {
		case errors.Is(err, store.ErrFull):
			h.log.Warn("readiness: the strike store's disk is full", "err", err)
			r.Status, r.Detail, status = "not ready", "the strike store's disk is full", http.StatusServiceUnavailable
		case err != nil:
			h.log.Warn("readiness: the strike store does not answer", "err", err)
			r.Status, r.Detail, status = "not ready", "the strike store does not answer", http.StatusServiceUnavailable
		}
	}
	if h.cfg.Reloader != nil {
		if st := h.cfg.Reloader.Status(); st != nil {
			r.LastReload = &reloadInfo{At: st.At.UTC(), OK: st.Err == nil, Version: st.Version}
			if st.Err != nil {
				r.LastReload.Error = st.Err.Error()
			}
		}
	}
	if err := acceptable(c, mediaJSON); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(status, r)
}
