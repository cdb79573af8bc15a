// Package server is protectmap's HTTP interface: OGC API - Features for GIS
// tools, proximity queries for analysts, and the map for browsers. It
// builds on geo and knows nothing of flags or files.
package server

import (
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo"
)

// Config is what New needs to serve.
type Config struct {
	// Index holds the data being served; a reload stores a new one.
	Index *atomic.Pointer[geo.Index]
	// Logger receives request logs; nil means slog.Default().
	Logger *slog.Logger
}

// New builds the HTTP handler.
func New(cfg Config) *echo.Echo {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"status": "ok", "features": cfg.Index.Load().Len()})
	})
	return e
}
