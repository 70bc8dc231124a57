package upstream

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-openapi/jsonpointer"
	"go.yaml.in/yaml/v4"

	"github.com/tokenmock/tokenmock/internal/answers"
	"github.com/tokenmock/tokenmock/internal/contract"
	"github.com/tokenmock/tokenmock/internal/problem"
	"github.com/tokenmock/tokenmock/internal/shape"
)

// Recorder writes each distinct answer of the backend (distinct by
// operation, status, media type and shape) as a fixture answer in
// DIR/<operationId>.yaml, in the shipped fixtures' format. Secret values
// become placeholders; answers that break the contract are kept, marked
// `invalid:` with their violations, and never become the default. Every
// file is complete, so `mockserver -fixtures DIR` serves the recording:
// an operation not seen yet keeps the fixtures the recording started
// from, and a file with no valid default borrows theirs.
type Recorder struct {
	dir    string
	target string
	base   *answers.Set
	mu     sync.Mutex
	seen   map[string]string // operation|shape key -> answer name
	ops    map[string][]recorded
}

type recorded struct {
	name    string
	status  int
	headers map[string]string
	bodies  map[string]string // media type -> body with placeholders
	invalid string
	shape   string
	members string // top-level member names, whatever the media type
}

// maxRecorded bounds the answers kept per operation: a backend whose
// answers all differ cannot fill the disk.
const maxRecorded = 100

// NewRecorder records into dir (created when missing), starting from the
// fixtures in force; the files are written at once, so that the directory
// is servable from the start.
func NewRecorder(dir, target string, base *answers.Set, realms, scenarios []byte) (*Recorder, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("-record %s: %w", dir, err)
	}
	// The token realms and the scenarios of the starting fixtures come
	// along, unless the directory has its own: a recording still serves
	// every scenario.
	for name, data := range map[string][]byte{answers.LifecycleFile: realms, answers.ScenariosFile: scenarios} {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); data != nil && os.IsNotExist(err) {
			if err := os.WriteFile(path, data, 0o644); err != nil {
				return nil, fmt.Errorf("-record %s: %w", dir, err)
			}
		}
	}
	r := &Recorder{dir: dir, target: target, base: base, seen: map[string]string{}, ops: map[string][]recorded{}}
	for _, id := range base.IDs() {
		if err := r.write(id); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Exchange is one answer of the backend, with the request it answered.
type Exchange struct {
	Operation  string
	Status     int
	Header     http.Header
	Body       []byte
	Violations []problem.Violation
	// What placeholders may stand for: the request's decoded body and
	// headers, and whether the operation mints tokens ({{token}}).
	RequestBody   any
	RequestHeader http.Header
	Mints         bool
}

// Record keeps the answer when its shape is new, and returns the name it
// has in the fixtures ("" when it was not kept: seen already, or the
// operation has maxRecorded answers).
func (r *Recorder) Record(x Exchange) (string, error) {
	sh := shape.Of(x.Status, x.Header, x.Body)
	key := x.Operation + "|" + sh.Key()
	r.mu.Lock()
	defer r.mu.Unlock()
	if name, ok := r.seen[key]; ok {
		return name, nil
	}
	if len(r.ops[x.Operation]) >= maxRecorded {
		return "", nil
	}
	media := contract.MediaType(x.Header)
	body := placeholders(string(x.Body), media, x)
	valid := len(x.Violations) == 0
	members := memberNames(media, x.Body)
	if valid && media != "" {
		// The same answer in another media type (JSON, then XML) joins the
		// first valid answer of that status and the same members that
		// lacks it: a client negotiating XML then gets XML from the
		// recording, as from the backend.
		ops := r.ops[x.Operation]
		for i := range ops {
			a := &ops[i]
			if a.invalid == "" && a.status == x.Status && a.members == members && a.bodies[media] == "" && len(a.bodies) > 0 {
				a.bodies[media] = body
				r.seen[key] = a.name
				return a.name, r.write(x.Operation)
			}
		}
	}
	rec := recorded{status: x.Status, shape: sh.Key(), headers: map[string]string{}, bodies: map[string]string{}, members: members}
	if media != "" {
		rec.bodies[media] = body
	}
	for k, vs := range x.Header {
		switch strings.ToLower(k) {
		case "content-type", "content-length", "date", "server", "set-cookie", "x-mock-violations":
			continue // recomputed, varying, or a secret
		}
		rec.headers[http.CanonicalHeaderKey(k)] = strings.Join(vs, ", ")
	}
	if !valid {
		var lines []string
		for _, v := range x.Violations {
			lines = append(lines, v.String())
		}
		rec.invalid = strings.Join(lines, "; ")
	}
	rec.name = fmt.Sprintf("recorded-%d-%s", x.Status, rec.shape)
	if valid && x.Status/100 == 2 && !r.hasDefault(x.Operation) {
		rec.name = answers.DefaultAnswer
	}
	r.ops[x.Operation] = append(r.ops[x.Operation], rec)
	r.seen[key] = rec.name
	return rec.name, r.write(x.Operation)
}

func (r *Recorder) hasDefault(op string) bool {
	return slices.ContainsFunc(r.ops[op], func(a recorded) bool { return a.name == answers.DefaultAnswer })
}

// secretMember matches a credential member's value in JSON or XML.
var (
	secretJSON = regexp.MustCompile(`"(SecurityToken|sessionId|token|Password)"(\s*:\s*)"((?:[^"\\]|\\.)*)"`)
	secretXML  = regexp.MustCompile(`<((?:\w+:)?(?:SecurityToken|sessionId|token|Password))(\s[^>]*)?>([^<]+)</`)
	hexTail    = regexp.MustCompile(`^(.*?)([0-9a-fA-F]{8,})$`)
	uuidForm   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// placeholders replaces the values of secret members by what a fixture
// says instead: the request value they echo ({{body:/ptr}},
// {{header:Name}}), the lifecycle's token ({{token}}), or a random value
// of the same form ({{uuid}}, PREFIX {{hex:N}}).
func placeholders(body, media string, x Exchange) string {
	replace := func(v string) string {
		if p := pointerTo(x.RequestBody, v, ""); p != "" {
			return "{{body:" + p + "}}"
		}
		for _, k := range slices.Sorted(maps.Keys(x.RequestHeader)) {
			if x.RequestHeader.Get(k) == v {
				return "{{header:" + k + "}}"
			}
		}
		if x.Mints {
			return "{{token}}"
		}
		if uuidForm.MatchString(v) {
			return "{{uuid}}"
		}
		if m := hexTail.FindStringSubmatch(v); m != nil {
			return m[1] + "{{hex:" + strconv.Itoa(min(len(m[2]), 1024)) + "}}"
		}
		return "{{hex:" + strconv.Itoa(max(1, min(len(v), 1024))) + "}}"
	}
	if strings.Contains(media, "json") {
		return secretJSON.ReplaceAllStringFunc(body, func(m string) string {
			g := secretJSON.FindStringSubmatch(m)
			var v string
			if err := json.Unmarshal([]byte(`"`+g[3]+`"`), &v); err != nil || v == "" {
				return m
			}
			return `"` + g[1] + `"` + g[2] + `"` + replace(v) + `"`
		})
	}
	return secretXML.ReplaceAllStringFunc(body, func(m string) string {
		g := secretXML.FindStringSubmatch(m)
		return "<" + g[1] + g[2] + ">" + replace(g[3]) + "</"
	})
}

// pointerTo finds the JSON pointer of a string value in a decoded body.
func pointerTo(v any, want, at string) string {
	switch t := v.(type) {
	case string:
		if t == want {
			return at
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			if p := pointerTo(t[k], want, at+"/"+jsonpointer.Escape(k)); p != "" {
				return p
			}
		}
	case []any:
		for i, e := range t {
			if p := pointerTo(e, want, at+"/"+strconv.Itoa(i)); p != "" {
				return p
			}
		}
	}
	return ""
}

// write rewrites DIR/<op>.yaml whole, through a temporary file and a
// rename, so that a server watching the directory never reads half a file.
func (r *Recorder) write(op string) error {
	base := r.base.Operation(op)
	type fileAnswer struct {
		Status   int               `yaml:"status"`
		Recorded string            `yaml:"recorded,omitempty"`
		Invalid  string            `yaml:"invalid,omitempty"`
		Headers  map[string]string `yaml:"headers,omitempty"`
		Body     map[string]string `yaml:"body,omitempty"`
	}
	f := struct {
		Lifecycle *answers.Binding             `yaml:"lifecycle,omitempty"`
		Requests  map[string]map[string]string `yaml:"requests,omitempty"`
		Answers   map[string]fileAnswer        `yaml:"answers"`
	}{Answers: map[string]fileAnswer{}}
	if base != nil {
		f.Lifecycle, f.Requests = base.Lifecycle, base.Requests
	}
	rec := r.ops[op]
	// The starting fixtures' answers stay (scenarios and the lifecycle
	// name them), but for a default the backend has given.
	keep := func(name string) bool { return name != answers.DefaultAnswer || !r.hasDefault(op) }
	if base != nil {
		for name, a := range base.Answers {
			if !keep(name) {
				continue
			}
			fa := fileAnswer{Status: a.Status, Invalid: a.Invalid, Body: a.Raw, Headers: map[string]string{}}
			for k := range a.Header {
				fa.Headers[k] = a.Header.Get(k)
			}
			f.Answers[name] = fa
		}
	}
	for _, a := range rec {
		fa := fileAnswer{Status: a.status, Recorded: "from " + r.target, Invalid: a.invalid, Headers: a.headers}
		if len(a.bodies) > 0 {
			fa.Body = a.bodies
		}
		f.Answers[a.name] = fa
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Answers of %s recorded from the backend by `mockserver -record`.\n", op)
	fmt.Fprintf(&b, "# recorded-STATUS-SHAPE: one per distinct answer (status, shape), its media\n")
	fmt.Fprintf(&b, "# types joined; the starting fixtures' answers are kept beside them;\n")
	fmt.Fprintf(&b, "# secret values are placeholders. An answer with `invalid:` broke the\n")
	fmt.Fprintf(&b, "# contract as written there: it is served as it came, only when asked for\n")
	fmt.Fprintf(&b, "# (Prefer: example=NAME), never as the default.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("record %s: %w", op, err)
	}
	path := filepath.Join(r.dir, op+".yaml")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("record %s: %w", op, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("record %s: %w", op, err)
	}
	return nil
}

// memberNames lists an answer's top-level members, sorted, the same for
// its JSON and its XML form: the members of the JSON object, the local
// names of the XML document element's children.
func memberNames(media string, body []byte) string {
	var names []string
	switch {
	case strings.Contains(media, "json"):
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) != nil {
			return ""
		}
		names = slices.Collect(maps.Keys(m))
	case strings.Contains(media, "xml"):
		dec := xml.NewDecoder(bytes.NewReader(body))
		depth := 0
		for {
			tok, err := dec.Token()
			if err != nil {
				break
			}
			switch t := tok.(type) {
			case xml.StartElement:
				depth++
				if depth == 2 && !slices.Contains(names, t.Name.Local) {
					names = append(names, t.Name.Local)
				}
			case xml.EndElement:
				depth--
			}
		}
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}
