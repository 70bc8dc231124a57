package mockserver

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"

	tokenmock "github.com/tokenmock/tokenmock"
	"github.com/tokenmock/tokenmock/fixtures"
	"github.com/tokenmock/tokenmock/internal/answers"
	"github.com/tokenmock/tokenmock/internal/contract"
	"github.com/tokenmock/tokenmock/internal/lifecycle"
	"github.com/tokenmock/tokenmock/internal/redact"
	"github.com/tokenmock/tokenmock/internal/scenario"
)

// world is everything a server loads from its spec and fixture directory:
// the contract, the answers, the scenarios and rules, the token realms. It
// is immutable once loaded; a reload builds a new one and swaps it in
// whole, so a request in flight finishes on the world it started with.
// What a server changes while it runs (activations, the journal, tokens,
// the clock) lives beside it in Server, and survives a reload.
type world struct {
	contract  *contract.Contract
	fixtures  *answers.Set
	scenarios *scenario.Set
	lifecycle *lifecycle.Config
	realms    []byte         // lifecycle.yaml as read, for record mode
	scenRaw   []byte         // scenarios.yaml as read, for record mode
	secrets   *redact.Policy // what the contract says is secret
	specName  string
	fixName   string
}

// Source is where a server's spec and fixtures come from, when not from
// files: a test can hand over an fs.FS, or the parsed embedded contract.
type Source struct {
	// Spec is the spec's bytes and name; empty for Config.SpecFile or the
	// embedded openapi.yaml.
	Spec     []byte
	SpecName string
	// Fixtures is a fixture directory as a file system; nil for
	// Config.FixturesDir or the embedded fixtures.
	Fixtures     fs.FS
	FixturesName string
}

// loadWorld reads and checks the spec and fixtures named by cfg (or src).
// Every mistake is reported, naming the file, in an error of readable
// size whatever the files hold. log, when set, hears of the progress of
// large fixture files.
func loadWorld(cfg Config, src Source, log *slog.Logger) (*world, error) {
	w, err := readWorld(cfg, src, log)
	return w, boundStartupError(err)
}

func readWorld(cfg Config, src Source, log *slog.Logger) (*world, error) {
	w := &world{}
	specData, specName := tokenmock.Spec, tokenmock.SpecName
	switch {
	case src.Spec != nil:
		specData, specName = src.Spec, src.SpecName
	case cfg.SpecFile != "":
		b, err := readSpec(cfg.SpecFile, cfg.MaxFixture)
		if err != nil {
			return nil, err
		}
		specData, specName = b, cfg.SpecFile
	}
	c, err := contract.LoadWith(specData, specName, contract.Limits{MaxDepth: cfg.MaxDepth, MaxXMLNodes: cfg.MaxXMLNodes})
	if err != nil {
		return nil, answers.YAMLError("", specData, err)
	}
	var fsys fs.FS = fixtures.FS
	fixName := "fixtures (embedded)"
	switch {
	case src.Fixtures != nil:
		fsys, fixName = src.Fixtures, src.FixturesName
		if fixName == "" {
			fixName = "fixtures"
		}
	case cfg.FixturesDir != "":
		root, closer, err := openFixtures(cfg.FixturesDir)
		if err != nil {
			return nil, err
		}
		defer closer.Close() // everything is read by the time loading ends
		fsys = root
		fixName = filepath.Clean(cfg.FixturesDir)
	}
	set, err := answers.LoadWith(fsys, fixName, c, answers.Options{MaxFileBytes: cfg.MaxFixture, Progress: fixtureProgress(log)})
	if err != nil {
		// The mistakes first: the first line names a file, a place and
		// what to change.
		return nil, fmt.Errorf("%w\n(%s checked against %s)", err, fixName, specName)
	}
	scen, scenRaw, err := loadScenarios(fsys, fixName, set, cfg.MaxFixture)
	if err != nil {
		return nil, err
	}
	realms, err := readOptional(fsys, lifecycle.File, filepath.Join(fixName, lifecycle.File), cfg.MaxFixture)
	if err != nil {
		return nil, fmt.Errorf("load token realms: %w", err)
	}
	life, err := lifecycle.Load(realms, filepath.Join(fixName, lifecycle.File), set)
	if err != nil {
		return nil, err
	}
	w.realms, w.scenRaw = realms, scenRaw
	w.contract, w.fixtures, w.scenarios, w.lifecycle, w.specName, w.fixName = c, set, scen, life, specName, fixName
	w.secrets = c.SecretPolicy()
	return w, nil
}

// loadScenarios reads scenarios.yaml of the fixture directory; a directory
// without one has no scenarios.
func loadScenarios(fsys fs.FS, dir string, set *answers.Set, max int64) (*scenario.Set, []byte, error) {
	where := filepath.Join(dir, answers.ScenariosFile)
	data, err := readOptional(fsys, answers.ScenariosFile, where, max)
	if err != nil {
		return nil, nil, fmt.Errorf("load scenarios: %w", err)
	}
	sc, err := scenario.Load(data, where, set)
	return sc, data, err
}

// readOptional reads a file of the fixture directory that may be absent
// (nil, then), within max bytes and as UTF-8 text.
func readOptional(fsys fs.FS, name, where string, max int64) ([]byte, error) {
	data, err := answers.ReadFile(fsys, name, where, max)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}
