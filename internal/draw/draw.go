// Package draw gives every random choice of a server a generator of its
// own, derived from the server's seed, what the draw is for and the
// request's step. A draw then depends on nothing else: with the same seed,
// request N of an operation gets the same failures, delays and tokens
// whatever other requests run beside it and in whatever order goroutines
// reach the shared state.
package draw

import (
	"math/rand/v2"
)

// Seed is the seed of a server's draws.
type Seed int64

// Rand returns the generator of one draw: key says what it is for (for
// instance "delay|ValidateToken"), step which request (or which admin
// call) it belongs to.
func (s Seed) Rand(key string, step uint64) *rand.Rand {
	return rand.New(s.Source(key, step))
}

// Source is Rand's source, for callers that want to keep it on the stack.
func (s Seed) Source(key string, step uint64) *rand.PCG {
	return rand.NewPCG(uint64(s)^hash(key), step)
}

// Float64 is one draw from [0, 1).
func (s Seed) Float64(key string, step uint64) float64 {
	src := s.Source(key, step)
	return float64(src.Uint64()<<11>>11) / (1 << 53)
}

// hash is FNV-1a, inlined so that a draw allocates nothing for its key.
func hash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
