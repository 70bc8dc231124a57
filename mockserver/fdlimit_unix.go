//go:build unix

package mockserver

import "syscall"

// fdLimit is the process's file-descriptor limit (Go raises the soft limit
// to the hard one at start-up), or 0 when it cannot be read.
func fdLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0
	}
	return int(min(r.Cur, 1<<30))
}
