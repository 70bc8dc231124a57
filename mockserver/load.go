package mockserver

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/tokenmock/tokenmock/internal/answers"
	"github.com/tokenmock/tokenmock/internal/problem"
)

// readSpec reads -spec, refusing it beyond -max-fixture without reading
// it all.
func readSpec(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read spec: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read spec %s: %w", path, err)
	}
	if err := answers.CheckFile(path, data, max); err != nil {
		return nil, fmt.Errorf("spec %w", err)
	}
	return data, nil
}

// openFixtures opens -fixtures as a root that no path or link can leave:
// a pull request that links scenarios.yaml to /etc/shadow gets the link's
// name in an error, never the file. The caller closes the root once the
// files are read.
func openFixtures(dir string) (fs.FS, io.Closer, error) {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return nil, nil, fmt.Errorf("-fixtures %s: not a readable directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("-fixtures %s: %w", dir, err)
	}
	abs, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("-fixtures %s: %w", dir, err)
	}
	var errs []error
	for _, e := range entries {
		if e.Type()&fs.ModeSymlink == 0 {
			continue
		}
		target, err := filepath.EvalSymlinks(filepath.Join(dir, e.Name()))
		rel, rerr := filepath.Rel(abs, target)
		if err != nil || rerr != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			errs = append(errs, fmt.Errorf("%s: a link that leads outside the fixture directory (or nowhere): refused", filepath.Join(dir, e.Name())))
		}
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	// The check above names the culprit; the root enforces it for good,
	// whatever changes in the directory afterwards.
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("-fixtures %s: %w", dir, err)
	}
	return root.FS(), root, nil
}

// fixtureProgress logs how far the check of a large fixture file has got.
func fixtureProgress(log *slog.Logger) func(file string, size int64, checked, total int) {
	if log == nil {
		return nil
	}
	return func(file string, size int64, checked, total int) {
		log.Info("loading fixtures", "file", file, "bytes", size, "answersChecked", checked, "answers", total)
	}
}

// Start-up errors are read by a person: at most startupLines lines of at
// most startupLineMax bytes, whatever the files held.
const (
	startupLines   = 40
	startupLineMax = 400
)

// boundStartupError cuts a start-up error to a readable size.
func boundStartupError(err error) error {
	if err == nil {
		return nil
	}
	lines := strings.Split(err.Error(), "\n")
	out := make([]string, 0, min(len(lines), startupLines+1))
	for i, l := range lines {
		if i == startupLines {
			out = append(out, fmt.Sprintf("… and %d more lines", len(lines)-i))
			break
		}
		out = append(out, problem.Cut(l, startupLineMax))
	}
	return errors.New(strings.Join(out, "\n"))
}
