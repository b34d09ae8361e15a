//go:build unix

package tiles_test

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time the process has used, user and system. On a
// machine shared with other work, the benchmarks report it beside wall time:
// it counts only what encoding costs, not the time spent waiting for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
