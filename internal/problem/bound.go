package problem

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Bounds on what one problem says, whatever the request: a body with
// 80 000 unknown members gets the first MaxViolations of them and a count
// of the rest, so that the answer, its log line and its journal entry stay
// a few tens of KiB.
const (
	// MaxViolations is the most violations a problem lists; the rest are
	// counted in one last violation of rule RuleMore.
	MaxViolations = 100
	// MaxField is the most bytes of a violation's location, rule or
	// detail, and of a problem's detail; a longer one is cut and ends
	// with "…".
	MaxField = 256
	// QuoteMax is the most bytes of a client's value quoted in a message.
	QuoteMax = 40
)

// RuleMore is the rule of the violation that counts those not listed.
const RuleMore = "more"

// Collector gathers the violations of one document, keeping the first
// MaxViolations (each field cut to MaxField) and counting the others, so
// that a decoder never builds more than that however many it finds.
type Collector struct {
	list List
	more int
}

// Add records one violation.
func (c *Collector) Add(location, rule, detail string) {
	c.AddViolation(Violation{Location: location, Rule: rule, Detail: detail})
}

// AddViolation records v; a RuleMore summary adds its count.
func (c *Collector) AddViolation(v Violation) {
	if v.Rule == RuleMore && v.more > 0 {
		c.more += v.more
		return
	}
	if len(c.list) >= MaxViolations {
		c.more++
		return
	}
	c.list = append(c.list, v.bounded())
}

// Len is the number of violations found, listed or not.
func (c *Collector) Len() int { return len(c.list) + c.more }

// List returns the violations kept, followed by the count of the others
// when there are more than MaxViolations.
func (c *Collector) List() List {
	if c.more == 0 {
		return c.list
	}
	return append(c.list, moreViolation(c.more))
}

// Err returns the list as an error, or nil when nothing was found.
func (c *Collector) Err() error {
	if c.Len() == 0 {
		return nil
	}
	return c.List()
}

func moreViolation(n int) Violation {
	noun := "violations"
	if n == 1 {
		noun = "violation"
	}
	return Violation{Rule: RuleMore, Detail: fmt.Sprintf("and %d more %s, not listed (at most %d are)", n, noun, MaxViolations), more: n}
}

// Bound returns vs within the limits: at most MaxViolations, then one
// violation counting the rest, each field at most MaxField bytes.
func Bound(vs []Violation) []Violation {
	if len(vs) <= MaxViolations {
		ok := true
		for _, v := range vs {
			if v.Rule == RuleMore || len(v.Location) > MaxField || len(v.Rule) > MaxField || len(v.Detail) > MaxField {
				ok = false
				break
			}
		}
		if ok {
			return vs
		}
	}
	var c Collector
	for _, v := range vs {
		c.AddViolation(v)
	}
	return c.List()
}

func (v Violation) bounded() Violation {
	v.Location = Cut(v.Location, MaxField)
	v.Rule = Cut(v.Rule, MaxField)
	v.Detail = Cut(v.Detail, MaxField)
	return v
}

// Cut returns s cut to at most max bytes, on a UTF-8 boundary, ending in
// "…" when it was cut.
func Cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const ellipsis = "…"
	n := max - len(ellipsis)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + ellipsis
}

// Quote renders a value a client sent, for a message: quoted and cut to
// QuoteMax bytes, or withheld when it looks like a credential (a token, a
// key, a UUID): an error message is no place to echo one.
func Quote(v string) string {
	if LooksSecret(v) {
		return fmt.Sprintf("(a %d-byte value that looks like a credential, not shown)", len(v))
	}
	return strconv.Quote(Cut(v, QuoteMax))
}

// LooksSecret reports whether a value has the shape of a credential: after
// an optional scheme word ("Bearer ", "QSDK "), 12 characters or more of
// the alphabets tokens are written in (letters, digits, -_.~+/=), with at
// least three letters and three digits.
func LooksSecret(v string) bool {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, ' '); i > 0 && i <= 10 && isWord(v[:i]) {
		v = strings.TrimSpace(v[i+1:])
	}
	if len(v) < 12 {
		return false
	}
	letters, digits := 0, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			letters++
		case strings.IndexByte("-_.~+/=", c) >= 0:
		default:
			return false
		}
	}
	return letters >= 3 && digits >= 3
}

func isWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// Within returns vs if their size (see Size) is at most max bytes, or else
// the first of them that fit in max with one RuleMore summary counting the
// others: what a journal entry keeps.
func Within(vs []Violation, max int) []Violation {
	total, fits := 0, true
	for _, v := range vs {
		total += Size(v)
		if total > max || v.Rule == RuleMore {
			fits = false
			break
		}
	}
	if fits {
		return vs
	}
	// Room for the summary, which Size counts at less than summaryRoom.
	const summaryRoom = 160
	total = 0
	for i, v := range vs {
		total += Size(v)
		if total > max-summaryRoom || v.Rule == RuleMore {
			rest := 0
			for _, r := range vs[i:] {
				if r.Rule == RuleMore && r.more > 0 {
					rest += r.more
				} else {
					rest++
				}
			}
			return append(vs[:i:i], moreViolation(rest))
		}
	}
	return vs
}

// ViolationOverhead is what a violation costs in memory beyond the bytes
// of its three strings (their headers and the struct's other fields).
const ViolationOverhead = 64

// Size is the memory a violation takes, for budgets.
func Size(v Violation) int {
	return len(v.Location) + len(v.Rule) + len(v.Detail) + ViolationOverhead
}

// MaxRendered is the most bytes a problem renders to, JSON or XML, whatever
// its content: its detail and MaxViolations+1 violations, every field at
// its bound and every byte escaped at the worst (6 bytes for one, as
// \u0000 in JSON): 512 + 6 × (2F + V × (3F + 16)), F = MaxField,
// V = MaxViolations + 1. About 478 KiB; a realistic one is 100 times less.
const MaxRendered = 512 + 6*(2*MaxField+(MaxViolations+1)*(3*MaxField+16))
