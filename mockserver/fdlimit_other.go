//go:build !unix

package mockserver

// fdLimit is unknown here.
func fdLimit() int { return 0 }
