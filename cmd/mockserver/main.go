// Command mockserver serves the token APIs of openapi.yaml from fixtures,
// validating every request against the contract.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tokenmock/tokenmock/internal/gctune"
	"github.com/tokenmock/tokenmock/internal/logsink"
	"github.com/tokenmock/tokenmock/mockserver"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if target, ok, err := parseHealthcheck(args); ok {
		if err != nil {
			fmt.Fprintf(stderr, "mockserver: %v\n", err)
			return 2
		}
		return healthcheck(target, getenv, stdout, stderr)
	}
	cfg, err := mockserver.ParseConfig(args, getenv, stdout)
	if errors.Is(err, mockserver.ErrHelp) {
		fmt.Fprint(stdout, healthcheckUsage)
		return 0
	}
	if err != nil {
		// One line per mistake, each saying where it comes from.
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stderr, "mockserver: %s\n", line)
		}
		return 2
	}
	if cfg.ShowVersion {
		fmt.Fprintf(stdout, "mockserver %s\n", version)
		return 0
	}
	// One line per request: batched, so that logging costs no write
	// system call per request; flushed at least every 100 ms and on exit.
	sink := logsink.New(stderr, 64<<10, 100*time.Millisecond)
	defer sink.Close()
	log := mockserver.NewLogger(cfg.LogFormat, sink)
	srv, err := mockserver.New(cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "mockserver: %v\n", err)
		return 2
	}
	defer gctune.Start(cfg.GCHeadroom)()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// SIGHUP reloads the spec and fixtures; a failed reload keeps serving
	// the previous ones (the errors are in the log and at /__mock/reload).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if err := srv.Open(); err != nil {
		fmt.Fprintf(stderr, "mockserver: %v\n", err)
		return 1
	}
	for waiting := true; waiting; {
		select {
		case <-hup:
			_ = srv.Reload("SIGHUP")
		case <-ctx.Done():
			waiting = false
		}
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Close(sctx); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	return 0
}
