package journal_test

import (
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenmock/tokenmock/internal/journal"
	"github.com/tokenmock/tokenmock/internal/problem"
)

func TestBoundedAfterManyRequests(t *testing.T) {
	j := journal.NewWith(journal.Options{Size: 500, BodyMax: 64})
	body := make([]byte, 10000)
	var before runtime.MemStats
	for i := range 100_000 {
		if i == 1000 {
			runtime.GC()
			runtime.ReadMemStats(&before)
		}
		header := map[string][]string{"Authtoken": {"QSDK 0123456789"}}
		j.Add(journal.Entry{Operation: "RenewLoginToken", Time: time.Now()}, header, slices.Clone(body))
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	all := j.List(journal.Filter{})
	if len(all) != 500 {
		t.Fatalf("got %d entries, want 500", len(all))
	}
	if all[0].ID != 100_000-499 || all[499].ID != 100_000 {
		t.Errorf("ids %d..%d, want the last 500", all[0].ID, all[499].ID)
	}
	if all[0].Header["Authtoken"] != "***************" {
		t.Errorf("Authtoken kept as %q", all[0].Header["Authtoken"])
	}
	if !all[0].BodyCut || len(all[0].Body) != 64 {
		t.Errorf("body kept %d bytes, want 64", len(all[0].Body))
	}
	if growth := int64(after.HeapAlloc) - int64(before.HeapAlloc); growth > 1<<20 {
		t.Errorf("heap grew %d bytes from request 1000 to 100000, want flat", growth)
	}
}

// An entry keeps at most BodyMax bytes of a body, in a copy of its own.
func TestKeepsOnlyTheCutOfALargeBody(t *testing.T) {
	j := journal.NewWith(journal.Options{Size: 10, BodyMax: 16})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 10 {
		j.Add(journal.Entry{}, map[string][]string{"X-Big": {strings.Repeat("v", 64<<10)}}, make([]byte, 1<<20))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 1<<20 {
		t.Errorf("10 entries of 1 MiB bodies and 64 KiB headers keep %d bytes", grew)
	}
	if e := j.List(journal.Filter{}); len(e[0].Header["X-Big"]) > 300 {
		t.Errorf("a 64 KiB header value kept whole")
	}
}

// worstEntries make the largest entries a request can make, every part at
// its bound: large header values, or as many tiny headers as fit.
func worstEntries() map[string]func(i int) (journal.Entry, http.Header, []byte) {
	viols := make([]problem.Violation, 101)
	for k := range viols {
		viols[k] = problem.Violation{Location: strings.Repeat("/l", 128), Rule: "additionalProperties", Detail: strings.Repeat("d", 256)}
	}
	body := []byte(strings.Repeat("b", 1<<20))
	large, tiny := http.Header{}, http.Header{}
	for k := range 5000 {
		large[fmt.Sprintf("X-H%05d", k)] = []string{strings.Repeat("v", 300)}
		tiny[fmt.Sprintf("X%d", k)] = []string{"v"}
	}
	entry := func(h http.Header) func(i int) (journal.Entry, http.Header, []byte) {
		return func(i int) (journal.Entry, http.Header, []byte) {
			e := journal.Entry{Time: time.Now(), Operation: "ValidateToken", Method: "PUT", Validation: "rejected", Status: 400,
				Path: "/api/v1/token/request?" + strings.Repeat("q", 60<<10) + fmt.Sprint(i), Violations: viols,
				Answer: journal.NewAnswer(502, h, body, journal.DefaultBodyMax, nil)}
			return e, h, body
		}
	}
	return map[string]func(i int) (journal.Entry, http.Header, []byte){"large headers": entry(large), "tiny headers": entry(tiny)}
}

// Each entry is counted at most MaxEntryBytes, the journal at most its
// byte budget, and the heap it holds stays within that budget: the worst
// case the README states.
func TestWorstCaseWithinTheBudget(t *testing.T) {
	const budget = 2 << 20
	for name, worst := range worstEntries() {
		t.Run(name, func(t *testing.T) {
			j := journal.NewWith(journal.Options{Size: 1000, Bytes: budget})
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for i := range 100 { // more than the budget holds
				e, h, b := worst(i)
				j.Add(e, h, b)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			n, used := j.Usage()
			if used > budget {
				t.Errorf("counted %d bytes, above the budget of %d", used, budget)
			}
			maxEntry := journal.MaxEntryBytes(journal.DefaultBodyMax)
			if perEntry := used / int64(n); perEntry > maxEntry {
				t.Errorf("an entry counted %d bytes, above MaxEntryBytes %d", perEntry, maxEntry)
			}
			if int64(n) < budget/maxEntry {
				t.Errorf("kept %d entries; the budget holds %d of the worst", n, budget/maxEntry)
			}
			held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			t.Logf("%d entries, counted %d bytes (%d each), heap held %d bytes", n, used, used/int64(n), held)
			if held > budget {
				t.Errorf("the journal holds %d bytes of heap, above its budget of %d", held, budget)
			}
			e := j.Page(journal.Filter{}, 0, 1).Entries[0]
			if !e.PathCut || len(e.Path) > journal.PathMax || e.HeadersCut == 0 || e.Violations[len(e.Violations)-1].Rule != problem.RuleMore {
				t.Errorf("path %d bytes (cut %v), %d headers dropped, violations %d ending %q", len(e.Path), e.PathCut, e.HeadersCut, len(e.Violations), e.Violations[len(e.Violations)-1].Rule)
			}
		})
	}
}

func TestPages(t *testing.T) {
	j := journal.NewWith(journal.Options{Size: 10})
	for i := range 25 {
		op := "A"
		if i%2 == 1 {
			op = "B"
		}
		j.Add(journal.Entry{Operation: op, Time: time.Now()}, nil, nil)
	}
	var ids []uint64
	var after uint64
	for range 10 {
		p := j.Page(journal.Filter{Operation: "A"}, after, 2)
		for _, e := range p.Entries {
			ids = append(ids, e.ID)
		}
		if p.Next == 0 {
			break
		}
		after = p.Next
	}
	// The last 10 are 16..25; of them, A's are the odd ids.
	if want := []uint64{17, 19, 21, 23, 25}; !slices.Equal(ids, want) {
		t.Errorf("got %v, want %v", ids, want)
	}
}

func TestMasksCredentials(t *testing.T) {
	j := journal.NewWith(journal.Options{Size: 10})
	h := http.Header{"Proxy-Authorization": {"Basic c2VjcmV0LXBhc3N3b3Jk"}, "X-Auth-Token": {"abcdefgh12345678"}}
	j.Add(journal.Entry{Path: "/x?access_token=abcdefgh12345678&page=2"}, h, []byte(`{"session\u0049d":"abcdefgh12345678"}`))
	e := j.List(journal.Filter{})[0]
	all := fmt.Sprint(e.Header, e.Path, e.Body)
	for _, secret := range []string{"abcdefgh12345678", "c2VjcmV0LXBhc3N3b3Jk"} {
		if strings.Contains(all, secret) {
			t.Errorf("%s kept in %s", secret, all)
		}
	}
	if !strings.Contains(e.Path, "page=2") {
		t.Errorf("path %s", e.Path)
	}
}
