package mockserver

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// reloadState is what the last reloads did, for GET /__mock/reload.
type reloadState struct {
	// loading is held from reading the files to putting the world in
	// force: two reloads at once (a file change, POST /__mock/reload)
	// cannot put an older world in force after a newer one.
	loading sync.Mutex
	mu      sync.Mutex
	loaded  time.Time // when the world in force was loaded
	tried   time.Time // the last attempt
	errors  []string  // the last attempt's mistakes; empty when it loaded
	watcher *fsnotify.Watcher
	done    chan struct{}
}

// ReloadStatus is what GET /__mock/reload shows.
type ReloadStatus struct {
	Loaded time.Time `json:"loaded"`
	Tried  time.Time `json:"tried,omitzero"`
	Errors []string  `json:"errors"`
	Watch  bool      `json:"watch"`
}

// Reload loads the spec and fixtures again and, when they are valid,
// puts them in force at once: requests in flight finish on the world they
// started with. A reload that fails keeps the world in force, logs every
// mistake with its file and place, and keeps them for ReloadStatus.
// Activations, the journal, tokens and the clock survive a reload
// (activations and tokens of scenarios and realms that are gone are
// dropped).
func (s *Server) Reload(why string) error {
	s.reloads.loading.Lock()
	defer s.reloads.loading.Unlock()
	w, err := loadWorld(s.cfg, s.src, s.log)
	now := s.clock.Now()
	s.reloads.mu.Lock()
	defer s.reloads.mu.Unlock()
	s.reloads.tried = now
	if err != nil {
		s.reloads.errors = splitErrors(err)
		for _, e := range s.reloads.errors {
			s.log.Error("reload failed: still serving the previous fixtures", "trigger", why, "err", e)
		}
		return err
	}
	s.world.Store(w)
	s.engine.Swap(w.scenarios, w.fixtures)
	s.gate.Swap(w.lifecycle)
	s.reloads.loaded, s.reloads.errors = now, nil
	s.log.Info("reloaded", "trigger", why, "spec", w.specName, "fixtures", w.fixName,
		"operations", len(w.contract.Operations), "scenarios", len(w.scenarios.Names), "realms", len(w.lifecycle.Names))
	return nil
}

// ReloadStatus reports the last reload.
func (s *Server) ReloadStatus() ReloadStatus {
	s.reloads.mu.Lock()
	defer s.reloads.mu.Unlock()
	return ReloadStatus{Loaded: s.reloads.loaded.UTC(), Tried: s.reloads.tried.UTC(), Errors: append([]string{}, s.reloads.errors...), Watch: s.reloads.watcher != nil}
}

// splitErrors lists the mistakes of a failed load, one entry each: the
// errors joined by the loaders are taken apart (each names its file and
// place), a mistake written over several lines stays one entry.
func splitErrors(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		if u := errors.Unwrap(e); u != nil {
			if _, ok := u.(interface{ Unwrap() []error }); ok {
				walk(u)
				return
			}
		}
		if msg := strings.Join(strings.Fields(e.Error()), " "); msg != "" {
			out = append(out, msg)
		}
	}
	walk(err)
	return out
}

// reloadDebounce is how long the watcher waits after a change before it
// reloads: editors write a file in several steps.
const reloadDebounce = 200 * time.Millisecond

// watch reloads when the spec file or a file of the fixture directory
// changes. Editors that replace a file (write a temporary, rename) are
// seen through the directory.
func (s *Server) watch() error {
	var dirs []string
	if s.cfg.SpecFile != "" {
		dirs = append(dirs, filepath.Dir(s.cfg.SpecFile))
	}
	if s.cfg.FixturesDir != "" {
		dirs = append(dirs, filepath.Clean(s.cfg.FixturesDir))
	}
	if len(dirs) == 0 {
		return errors.New("-watch: nothing to watch: the spec and fixtures are the embedded ones (give -spec or -fixtures)")
	}
	wt, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	for _, d := range dirs {
		if err := wt.Add(d); err != nil {
			wt.Close()
			return err
		}
	}
	s.reloads.mu.Lock()
	s.reloads.watcher, s.reloads.done = wt, make(chan struct{})
	done := s.reloads.done
	s.reloads.mu.Unlock()
	go func() {
		defer close(done)
		var timer *time.Timer
		fire := make(chan struct{}, 1)
		for {
			select {
			case ev, ok := <-wt.Events:
				if !ok {
					return
				}
				if !s.watched(ev.Name) {
					continue
				}
				if timer == nil {
					timer = time.AfterFunc(reloadDebounce, func() {
						select {
						case fire <- struct{}{}:
						default:
						}
					})
				} else {
					timer.Reset(reloadDebounce)
				}
			case <-fire:
				_ = s.Reload("file change")
			case err, ok := <-wt.Errors:
				if !ok {
					return
				}
				s.log.Warn("watching the fixtures", "err", err)
			}
		}
	}()
	return nil
}

// watched tells whether a changed path is one the world is loaded from.
func (s *Server) watched(name string) bool {
	name = filepath.Clean(name)
	if s.cfg.SpecFile != "" && name == filepath.Clean(s.cfg.SpecFile) {
		return true
	}
	if s.cfg.FixturesDir != "" && filepath.Dir(name) == filepath.Clean(s.cfg.FixturesDir) {
		ext := filepath.Ext(name)
		return ext == ".yaml" || ext == ".yml"
	}
	return false
}

func (s *Server) stopWatching() {
	s.reloads.mu.Lock()
	wt, done := s.reloads.watcher, s.reloads.done
	s.reloads.watcher = nil
	s.reloads.mu.Unlock()
	if wt != nil {
		wt.Close()
		<-done
	}
}
