// Command onemap serves the one map of a city's safety risks.
//
//	onemap [serve] [--addr :8080] [--city DIR] [--data-dir DIR]
//	onemap gen --seed S --scale N --out DIR
//	onemap migrate --db URL
//	onemap load --db URL [--city DIR] [--srid N] [--report FILE]
//	onemap journal check|repair [--data-dir DIR]
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "onemap:", err)
		os.Exit(1)
	}
}
