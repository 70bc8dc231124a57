package answers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A file that is not what it should be (a link to /etc/shadow, a binary, a
// file of a pull request) must not come back in an error message: start-up
// errors quote at most ExcerptMax bytes of the line they are about, and
// list at most MaxFileErrors mistakes per file.
const (
	ExcerptMax    = 80
	MaxFileErrors = 10
)

// DefaultMaxFileBytes is the size limit of a fixture file by default.
const DefaultMaxFileBytes = 16 << 20

// CheckFile refuses a file larger than max bytes, or that is not UTF-8
// text, naming the line where it stops being so.
func CheckFile(where string, data []byte, max int64) error {
	if max > 0 && int64(len(data)) > max {
		return fmt.Errorf("%s: %s, larger than the limit of %s (-max-fixture)", where, sizeText(int64(len(data))), sizeText(max))
	}
	if !utf8.Valid(data) {
		at := 0
		for at < len(data) {
			r, n := utf8.DecodeRune(data[at:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			at += n
		}
		line := bytes.Count(data[:at], []byte{'\n'}) + 1
		col := at - (bytes.LastIndexByte(data[:at], '\n') + 1) + 1
		return fmt.Errorf("%s: line %d, byte %d: not valid UTF-8 (YAML files are UTF-8 text)", where, line, col)
	}
	return nil
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

var (
	lineRef    = regexp.MustCompile(`line (\d+)`)
	quoted     = regexp.MustCompile("`[^`]*`")
	fieldNotIn = regexp.MustCompile(`field (.*) not found in type (.*)$`)
	identifier = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,40}$`)
)

// YAMLError rewrites an error of the YAML decoder about data (the file
// named where; "" when the message names it already) so that it quotes no more of the file than the first
// ExcerptMax bytes of each line it is about: the decoder itself would
// quote whole keys and values, every line of a file that is not YAML.
func YAMLError(where string, data []byte, err error) error {
	if err == nil {
		return nil
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:")
	var parts []string
	for part := range strings.SplitSeq(msg, "\n") {
		if part = strings.TrimSpace(part); part != "" {
			parts = append(parts, part)
		}
	}
	var out []string
	excerpted := false
	for i, part := range parts {
		if i == MaxFileErrors {
			out = append(out, fmt.Sprintf("and %d more", len(parts)-i))
			break
		}
		// A field's name helps find a typo; a "name" that is a line of
		// some other file does not, and is not repeated.
		part = fieldNotIn.ReplaceAllStringFunc(part, func(m string) string {
			name := fieldNotIn.FindStringSubmatch(m)[1]
			if identifier.MatchString(name) {
				return "field " + name + " not found"
			}
			return "an unknown field"
		})
		part = quoted.ReplaceAllString(part, "a value")
		// Only the first line in error is quoted, and only its start.
		if m := lineRef.FindStringSubmatch(part); m != nil && !excerpted {
			if n, err := strconv.Atoi(m[1]); err == nil {
				part, excerpted = Excerpt(part, data, n), true
			}
		}
		out = append(out, excerptCut(part, 200))
	}
	if where == "" {
		return errors.New(strings.Join(out, "\n  "))
	}
	return errors.New(where + ": " + strings.Join(out, "\n  "))
}

// Excerpt adds to a message about line n of data the start of that line.
func Excerpt(msg string, data []byte, n int) string {
	line := lineOf(data, n)
	if line == nil {
		return msg
	}
	text := excerptCut(string(bytes.TrimRight(line, "\r")), ExcerptMax)
	return fmt.Sprintf("%s (the line reads %s)", msg, strconv.Quote(text))
}

func lineOf(data []byte, n int) []byte {
	for i := 1; i < n; i++ {
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 {
			return nil
		}
		data = data[nl+1:]
	}
	if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
		data = data[:nl]
	}
	return data
}

// excerptCut cuts s to max bytes on a UTF-8 boundary, marking the cut.
func excerptCut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := max
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// ReadFile reads a file of fsys (where names it in messages), refusing it
// beyond max bytes without reading it all, and when it is not UTF-8.
func ReadFile(fsys fs.FS, name, where string, max int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	return data, CheckFile(where, data, max)
}
