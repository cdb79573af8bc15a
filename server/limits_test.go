package server

import (
	"runtime"
	"testing"

	"github.com/protectmap/protectmap/internal/procs"
)

// TestDefaultLimitsFollowCPUs: serve runs more processors than CPUs
// (procs.Default), and the limits that follow the CPUs must not grow
// with them, whenever they are read.
func TestDefaultLimitsFollowCPUs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2 * procs.CPUs()))
	d := DefaultLimits()
	if want := max(1, procs.CPUs()-1); d.MaxHeavy != want {
		t.Errorf("MaxHeavy %d with GOMAXPROCS %d, want %d (the CPUs less one)", d.MaxHeavy, runtime.GOMAXPROCS(0), want)
	}
	if want := 128 * procs.CPUs(); d.MaxNewConns != want {
		t.Errorf("MaxNewConns %d with GOMAXPROCS %d, want %d (128 a CPU)", d.MaxNewConns, runtime.GOMAXPROCS(0), want)
	}
}
