package mockserver

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/tokenmock/tokenmock/internal/scenario"
)

// Config is everything the server is started with. It is loaded in one
// place, ParseConfig (flag > environment > default), and checked there.
type Config struct {
	Addr            string        // listen address
	SpecFile        string        // openapi.yaml to serve; "" for the embedded one
	FixturesDir     string        // fixture directory; "" for the embedded ones
	LogFormat       string        // text or json
	MaxBody         int64         // request body limit in bytes
	ShutdownTimeout time.Duration // how long requests in flight may finish
	ShowVersion     bool

	// Failures (see package scenario).
	Scenario     string        // active from start-up until cleared
	FailRate     float64       // fraction of requests that get FailScenario
	FailScenario string        //
	Latency      Range         // added to every answer
	Seed         int64         // seed of every random draw
	SeedSet      bool          // false: a seed is drawn at start-up and logged
	TimeoutMax   time.Duration // how long a timeout fault holds a request at most
	JournalSize  int           // requests kept by the journal
	JournalBytes int64         // bytes kept by the journal (see journal.Size)
	Admin        bool          // serve the admin API under /__mock
	AdminToken   string        // when set, admin calls need Authorization: Bearer AdminToken
	Validation   string        // enforce or report

	// Limits on what clients send.
	MaxHeader         int64 // bytes of request line and headers
	MaxDepth          int   // nesting of JSON and XML bodies
	MaxXMLNodes       int   // elements and attributes of an XML body
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	IdleTimeout       time.Duration
	MaxConns          int   // open connections; 0: sized from the file-descriptor limit
	MaxFixture        int64 // bytes of the spec and of each fixture file

	GCHeadroom int64 // collect when the heap is this far above the live heap; 0: Go's default

	// Token lifecycle (package lifecycle).
	Lifecycle string // off, adopt or strict
	MaxTokens int    // tokens the store holds at most

	// Validating proxy (package upstream).
	Upstream        string        // backend base URL; "" to answer from fixtures
	UpstreamTimeout time.Duration // for the backend's whole answer
	UpstreamCA      string        // PEM file of CA certificates to trust beside the system's
	UpstreamMode    string        // report or enforce
	UpstreamJUnit   string        // JUnit XML of the backend's answers, written on shutdown
	Record          string        // directory the backend's distinct answers are recorded in

	// Watch reloads the spec and fixtures when their files change.
	Watch    bool
	WatchSet bool // false: Watch follows whether -spec or -fixtures names files
}

// DefaultConfig is the configuration of `mockserver` with no flags.
func DefaultConfig() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		LogFormat:       "text",
		MaxBody:         1 << 20,
		ShutdownTimeout: 10 * time.Second,
		TimeoutMax:      30 * time.Second,
		JournalSize:     1000,
		JournalBytes:    16 << 20,
		Admin:           true,
		Validation:      "enforce",

		MaxHeader:         64 << 10,
		MaxDepth:          64,
		MaxXMLNodes:       10000,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxFixture:        16 << 20,
		GCHeadroom:        12 << 20,
		Lifecycle:         "off",
		UpstreamTimeout:   30 * time.Second,
		UpstreamMode:      "report",
		MaxTokens:         100_000,
	}
}

// EnvPrefix prefixes the environment variable of each flag:
// -fixtures is MOCKSERVER_FIXTURES.
const EnvPrefix = "MOCKSERVER_"

// ErrHelp is returned by ParseConfig when -help was asked for; the usage
// has been written.
var ErrHelp = flag.ErrHelp

// ParseConfig reads the configuration from command-line arguments and the
// environment (getenv), flags winning over environment variables. The usage
// is written to out when -help asks for it; mistakes are returned, each on
// a line of its own, and nothing is written for them.
func ParseConfig(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("mockserver", flag.ContinueOnError)
	// The flag package writes each mistake and the whole usage itself:
	// the caller reports the returned error once instead.
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address (host:port; port 0 picks a free port)")
	fs.StringVar(&cfg.SpecFile, "spec", "", "OpenAPI file to serve instead of the embedded openapi.yaml")
	fs.StringVar(&cfg.FixturesDir, "fixtures", "", "fixture directory to use instead of the embedded fixtures")
	fs.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "log format: text or json")
	fs.Var(byteSize{&cfg.MaxBody, CeilingMaxBody}, "max-body", "request body limit: a `size` in bytes, or with KiB/MiB/GiB; at most 1GiB")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "time given to requests in flight on SIGINT/SIGTERM")
	fs.BoolVar(&cfg.ShowVersion, "version", false, "print the version and exit")
	fs.StringVar(&cfg.Scenario, "scenario", "", "scenario active from start-up until cleared through the admin API")
	fs.Float64Var(&cfg.FailRate, "fail-rate", 0, "fraction (0..1) of requests that get -fail-scenario, drawn from the seeded generator")
	fs.StringVar(&cfg.FailScenario, "fail-scenario", "", "scenario given to -fail-rate of the requests")
	fs.Var(latencyFlag{&cfg.Latency}, "latency", "`latency` added to every answer: 50ms, or a range 50ms..200ms")
	fs.Func("seed", "seed `N` of every random draw (probabilities, delays, placeholders, minted tokens, keyed by the request's step); default: drawn at start-up and logged", func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		cfg.Seed, cfg.SeedSet = n, true
		return nil
	})
	fs.DurationVar(&cfg.TimeoutMax, "timeout-max", cfg.TimeoutMax, "longest a timeout fault holds a request before closing the connection")
	fs.IntVar(&cfg.JournalSize, "journal-size", cfg.JournalSize, "requests the journal keeps (a ring; 0 keeps none)")
	fs.Var(byteSize{&cfg.JournalBytes, CeilingJournalBytes}, "journal-bytes", "`size` the journal keeps at most, the oldest requests going first (64KiB to 4GiB)")
	fs.BoolVar(&cfg.Admin, "admin", cfg.Admin, "serve the admin API under /__mock")
	fs.StringVar(&cfg.AdminToken, "admin-token", "", "require Authorization: Bearer TOKEN on every admin call (the dashboard at /__mock/ui asks for it once and keeps a cookie)")
	fs.Var(byteSize{&cfg.MaxHeader, CeilingMaxHeader}, "max-header", "request line and headers limit: a `size` in bytes, or with KiB/MiB/GiB, at most 16MiB; 431 beyond")
	fs.IntVar(&cfg.MaxDepth, "max-depth", cfg.MaxDepth, "nesting limit of JSON and XML bodies: 400 beyond")
	fs.IntVar(&cfg.MaxXMLNodes, "max-xml-nodes", cfg.MaxXMLNodes, "limit of elements and attributes in an XML body: 400 beyond")
	fs.DurationVar(&cfg.ReadHeaderTimeout, "read-header-timeout", cfg.ReadHeaderTimeout, "time a client has to send the request headers; slower connections are dropped")
	fs.DurationVar(&cfg.ReadTimeout, "read-timeout", cfg.ReadTimeout, "time a client has to send the whole request")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", cfg.IdleTimeout, "time an idle keep-alive connection stays open")
	fs.IntVar(&cfg.MaxConns, "max-conns", cfg.MaxConns, "open connections at most; the one idle the longest is closed for a new one at the limit (0: the file-descriptor limit less a tenth)")
	fs.Var(byteSize{&cfg.MaxFixture, CeilingMaxFixture}, "max-fixture", "`size` limit of the spec file and of each fixture file (at most 1GiB)")
	fs.Var(byteSize{&cfg.GCHeadroom, CeilingGCHeadroom}, "gc-headroom", "while the live heap is smaller than this `size`, collect garbage when the heap has grown this much rather than when it doubles (0: Go's default; GOGC or GOMEMLIMIT in the environment win; at most 4GiB)")
	fs.StringVar(&cfg.Lifecycle, "lifecycle", cfg.Lifecycle, "token lifecycle: off (any token is valid), adopt (unknown tokens are registered on first sight, then expire and renew by the rules), strict (only seeded or minted tokens exist)")
	fs.IntVar(&cfg.MaxTokens, "max-tokens", cfg.MaxTokens, "tokens the lifecycle keeps at most (revoked and expired ones are evicted first, then the least recently active)")
	fs.BoolFunc("watch", "reload the spec and fixtures when their files change (default: on when -spec or -fixtures is given; -watch=false turns it off)", func(v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q: want true or false", v)
		}
		cfg.Watch, cfg.WatchSet = b, true
		return nil
	})
	fs.StringVar(&cfg.Upstream, "upstream", "", "validating proxy: forward each request to this backend (http:// or https:// URL) and check its answer against the contract")
	fs.DurationVar(&cfg.UpstreamTimeout, "upstream-timeout", cfg.UpstreamTimeout, "time the backend has for its whole answer (502 beyond)")
	fs.StringVar(&cfg.UpstreamCA, "upstream-ca", "", "PEM file of CA certificates trusted for an https -upstream, beside the system's")
	fs.StringVar(&cfg.UpstreamMode, "upstream-mode", cfg.UpstreamMode, "report: pass the backend's answer through and record its violations; enforce: answer a violating answer with 502, and a violating request with its 4xx without forwarding it")
	fs.StringVar(&cfg.UpstreamJUnit, "upstream-junit", "", "write a JUnit XML report of the backend's answers to this file on shutdown")
	fs.StringVar(&cfg.Record, "record", "", "with -upstream: write each distinct answer of the backend as a fixture answer in this directory (then serve it with -fixtures)")
	fs.StringVar(&cfg.Validation, "validation", cfg.Validation, "enforce: answer contract violations with 4xx; report: log and journal them, and answer anyway")
	fs.Usage = func() {}

	// The environment sets values first, so that flags override them.
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := EnvPrefix + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(env); v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("environment %s=%q: %w", env, v, err))
			}
		}
	})
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(out, "Usage: mockserver [flags]\n\nA mock server for the token APIs of openapi.yaml. Every flag can also be set\nby an environment variable: -log-format is %sLOG_FORMAT.\n\nFlags:\n", EnvPrefix)
		fs.SetOutput(out)
		fs.PrintDefaults()
		return cfg, ErrHelp
	} else if err != nil {
		return cfg, flagError(err)
	}
	if !cfg.WatchSet {
		cfg.Watch = cfg.SpecFile != "" || cfg.FixturesDir != ""
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " ")))
	}
	errs = append(errs, cfg.Validate())
	if err := errors.Join(errs...); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// Validate reports every value of c that cannot work.
func (c Config) Validate() error {
	var errs []error
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("-log-format %q: want text or json", c.LogFormat))
	}
	if c.MaxBody <= 0 {
		errs = append(errs, fmt.Errorf("-max-body %d: must be positive", c.MaxBody))
	}
	if c.ShutdownTimeout < 0 {
		errs = append(errs, fmt.Errorf("-shutdown-timeout %s: must not be negative", c.ShutdownTimeout))
	}
	if c.FailRate < 0 || c.FailRate > 1 {
		errs = append(errs, fmt.Errorf("-fail-rate %v: want a fraction from 0 to 1", c.FailRate))
	}
	if c.FailRate >= 0 && c.FailRate <= 1 && (c.FailRate > 0) != (c.FailScenario != "") {
		errs = append(errs, errors.New("-fail-rate and -fail-scenario go together"))
	}
	if c.TimeoutMax <= 0 {
		errs = append(errs, fmt.Errorf("-timeout-max %s: must be positive", c.TimeoutMax))
	}
	if c.JournalSize < 0 {
		errs = append(errs, fmt.Errorf("-journal-size %d: must not be negative", c.JournalSize))
	}
	if c.JournalBytes < 64<<10 {
		errs = append(errs, fmt.Errorf("-journal-bytes %d: must be at least 64KiB", c.JournalBytes))
	}
	if c.MaxConns < 0 {
		errs = append(errs, fmt.Errorf("-max-conns %d: must not be negative (0: from the file-descriptor limit)", c.MaxConns))
	}
	if c.MaxFixture < 1024 {
		errs = append(errs, fmt.Errorf("-max-fixture %d: must be at least 1KiB", c.MaxFixture))
	}
	for _, b := range []struct {
		name       string
		n, ceiling int64
	}{{"-max-body", c.MaxBody, CeilingMaxBody}, {"-max-header", c.MaxHeader, CeilingMaxHeader}, {"-journal-bytes", c.JournalBytes, CeilingJournalBytes},
		{"-max-fixture", c.MaxFixture, CeilingMaxFixture}, {"-gc-headroom", c.GCHeadroom, CeilingGCHeadroom}} {
		if b.n > b.ceiling {
			errs = append(errs, fmt.Errorf("%s %d: above the ceiling of %s", b.name, b.n, byteSize{&b.n, 0}))
		}
	}
	if c.UpstreamMode != "" && c.UpstreamMode != "report" && c.UpstreamMode != "enforce" {
		errs = append(errs, fmt.Errorf("-upstream-mode %q: want report or enforce", c.UpstreamMode))
	}
	if c.Upstream == "" && (c.Record != "" || c.UpstreamJUnit != "" || c.UpstreamCA != "") {
		errs = append(errs, errors.New("-record, -upstream-junit and -upstream-ca need -upstream"))
	}
	if c.Upstream != "" && c.UpstreamTimeout <= 0 {
		errs = append(errs, fmt.Errorf("-upstream-timeout %s: must be positive", c.UpstreamTimeout))
	}
	if c.Validation != "enforce" && c.Validation != "report" {
		errs = append(errs, fmt.Errorf("-validation %q: want enforce or report", c.Validation))
	}
	if c.MaxHeader < 1024 {
		errs = append(errs, fmt.Errorf("-max-header %d: must be at least 1KiB", c.MaxHeader))
	}
	if c.MaxDepth < 2 {
		errs = append(errs, fmt.Errorf("-max-depth %d: must be at least 2", c.MaxDepth))
	}
	if c.MaxXMLNodes < 1 {
		errs = append(errs, fmt.Errorf("-max-xml-nodes %d: must be positive", c.MaxXMLNodes))
	}
	for name, d := range map[string]time.Duration{"-read-header-timeout": c.ReadHeaderTimeout, "-read-timeout": c.ReadTimeout, "-idle-timeout": c.IdleTimeout} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s %s: must be positive", name, d))
		}
	}
	if c.Lifecycle != "" && c.Lifecycle != "off" && c.Lifecycle != "adopt" && c.Lifecycle != "strict" {
		errs = append(errs, fmt.Errorf("-lifecycle %q: want off, adopt or strict", c.Lifecycle))
	}
	if c.MaxTokens < 0 {
		errs = append(errs, fmt.Errorf("-max-tokens %d: must not be negative (0 is the default, 100000)", c.MaxTokens))
	}
	if c.Addr == "" {
		errs = append(errs, errors.New("-addr: must not be empty"))
	}
	return errors.Join(errs...)
}

// flagError rewords the flag package's errors for a person and points to
// -help, which the package would have printed whole.
func flagError(err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		msg = "unknown flag " + name
	}
	return fmt.Errorf("%s (mockserver -help lists the flags)", msg)
}

// Range is a fixed duration (Min == Max) or a range to draw from, as
// -latency takes it.
type Range = scenario.Range

// ParseRange parses "2s" or "200ms..2s".
func ParseRange(text string) (Range, error) { return scenario.ParseRange(text) }

// latencyFlag is a flag.Value for a duration or a range of durations.
type latencyFlag struct{ r *scenario.Range }

func (l latencyFlag) String() string {
	if l.r == nil || l.r.Max == 0 {
		return ""
	}
	return l.r.String()
}

func (l latencyFlag) Set(s string) error {
	r, err := scenario.ParseRange(s)
	if err != nil {
		return err
	}
	*l.r = r
	return nil
}

// Ceilings of the size flags: above them a value is refused, not
// wrapped around or silently cut. The server holds a body, a header, the
// journal and a fixture in memory, so each is bounded well within what a
// machine has.
const (
	CeilingMaxBody      = 1 << 30
	CeilingMaxHeader    = 16 << 20
	CeilingJournalBytes = 4 << 30
	CeilingMaxFixture   = 1 << 30
	CeilingGCHeadroom   = 4 << 30
)

// byteSize is a flag.Value for sizes such as 1048576, 512KiB or 1MiB, at
// most ceiling bytes.
type byteSize struct {
	n       *int64
	ceiling int64
}

// sizeUnits are the units of byteSize, largest first.
var sizeUnits = []struct {
	suffix string
	mult   int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

// String writes the size the way the README and -help show it: in the
// largest unit that divides it (1MiB, 64KiB, 1500B).
func (b byteSize) String() string {
	if b.n == nil {
		return ""
	}
	if *b.n == 0 {
		return "0"
	}
	for _, u := range sizeUnits {
		if *b.n%u.mult == 0 {
			return strconv.FormatInt(*b.n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(*b.n, 10)
}

func (b byteSize) Set(s string) error {
	mult := int64(1)
	num := strings.TrimSpace(s)
	for _, u := range sizeUnits {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if errors.Is(err, strconv.ErrRange) || (err == nil && n > b.ceiling/mult) {
		// Checked before multiplying: 17179869185GiB must not wrap around.
		c := b.ceiling
		return fmt.Errorf("%q is above the ceiling of %s", s, byteSize{&c, 0})
	}
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a size (bytes, or a number with KiB, MiB or GiB)", s)
	}
	*b.n = n * mult
	return nil
}

// NewLogger returns the structured logger for a -log-format. A duration
// reads as Go writes it (10s, 1.5ms) in both formats: slog's JSON would
// give a count of nanoseconds. Request lines carry duration_ms, a number.
func NewLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{ReplaceAttr: readableDuration}))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func readableDuration(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}
