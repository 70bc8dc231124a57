// Package dashboard is the browser page of the mock, at /__mock/ui: its
// html/template views, its script and its style sheet, embedded so that
// the binary serves them with no files and no build step. It knows
// nothing of HTTP routing: package mockserver fills the views from the
// server's state and serves them; every state change the page makes goes
// through the admin API.
//
// Everything shown is escaped by html/template on the server and set as
// text (never as markup) by the script: request bodies, paths and headers
// are whatever a client sent.
package dashboard

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Static is the script and style sheet the page loads, by file name.
func Static() fs.FS {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

var views = template.Must(template.New("").Funcs(template.FuncMap{
	"clock":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
	"short":  func(t time.Time) string { return t.UTC().Format("01-02 15:04:05") },
	"time":   func(t time.Time) string { return t.UTC().Format("15:04:05.000") },
	"join":   strings.Join,
	"pretty": Pretty,
	"remaining": func(n int64) string {
		if n < 0 {
			return "until cleared"
		}
		return fmt.Sprint(n)
	},
	"ms": func(f float64) string { return fmt.Sprintf("%.2f", f) },
}).ParseFS(templateFS, "templates/*.html"))

// Render writes the view name with data: "page", "login", or one of the
// panels the page refreshes ("active", "tokens", "clock", "upstream") or
// an entry's "detail".
func Render(w io.Writer, name string, data any) error {
	return views.ExecuteTemplate(w, name, data)
}

// Page is the whole dashboard.
type Page struct {
	Seed        int64
	Validation  string
	JournalSize int
	Operations  []string
	Statuses    []string // status filter choices
	LoggedIn    bool     // with -admin-token: offer to log out
	Scenarios   []Scenario
	Active      Active
	Tokens      Tokens
	Clock       Clock
	Upstream    *Upstream // nil: no validating proxy
}

// Scenario is one scenario of scenarios.yaml.
type Scenario struct {
	Name, Description, Does string
	Operations              []string
}

// Active is the activations in force.
type Active struct {
	Activations []Activation
}

// Activation is one scenario switched on.
type Activation struct {
	Scenario, Operation, Source string
	Remaining                   int64
	Since                       time.Time
}

// Tokens is the token lifecycle's tokens of a realm and state.
type Tokens struct {
	Mode         string
	Realms       []string
	Realm, State string // the filter shown
	List         []Token
	Shown, Max   int
}

// Token is one token, masked.
type Token struct {
	ID                         uint64
	Realm, Token, Owner, State string
	LastActivity, Expires      time.Time
}

// Clock is the server's clock.
type Clock struct {
	Now    time.Time
	Offset string
	Moved  bool
}

// Upstream is what the validating proxy saw of the exchanges with the
// backend it forwards to.
type Upstream struct {
	Target             string
	Total              int // violations
	Exchanges, Failing int // exchanges checked, and those with violations
	Rows               []UpstreamRow
	More               int // rows not shown
}

// UpstreamRow counts the violations of one rule at one place of an
// operation's requests or answers.
type UpstreamRow struct {
	Operation, Direction, Rule, Location string
	Count                                int
}

// Detail is one journal entry, opened.
type Detail struct {
	Found                   bool
	ID                      uint64
	Time                    time.Time
	Operation, Method, Path string
	Status                  int
	DurationMS              float64
	Validation              string
	Violations              []Violation
	Scenario, Rule, Fault   string
	Step                    uint64
	Lifecycle               string
	Upstream                bool // the answer came from the backend (-upstream)
	Headers                 []Header
	Body, BodyType          string
	BodyCut                 bool
	HasAnswer               bool // the journal kept the answer
	AnswerHeaders           []Header
	Answer, AnswerType      string
	AnswerCut               bool
}

// Violation is one broken rule of the contract.
type Violation struct{ Location, Rule, Detail string }

// Header is one header, credentials masked.
type Header struct{ Name, Value string }

// Login is the form that asks for the admin token.
type Login struct {
	Failed bool
}
