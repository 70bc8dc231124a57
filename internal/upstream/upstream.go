// Package upstream is the mock as a validating proxy: it forwards a
// request to the real backend, tells what the backend answered, and keeps
// the count of contract violations in the forms tools read (a summary,
// JUnit XML) and, in record mode, the backend's distinct answers as
// fixtures. It knows nothing of Echo: the server calls it.
package upstream

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Modes of -upstream-mode.
const (
	ModeReport  = "report"  // pass the backend's answer through, record its violations
	ModeEnforce = "enforce" // answer a violating answer with a 502 problem instead
)

// MaxAnswer bounds the backend answer the proxy reads to validate.
const MaxAnswer = 16 << 20

// Client forwards requests to one backend.
type Client struct {
	target *url.URL
	http   *http.Client
}

// NewClient returns a client for the backend at rawURL (http or https),
// trusting the CA certificates of the PEM file caFile beside the system's
// when given.
func NewClient(rawURL string, timeout time.Duration, caFile string) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("-upstream %q: want an http:// or https:// URL with a host", rawURL)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // the backend is reached directly, not through HTTP_PROXY
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("-upstream-ca: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-upstream-ca %s: no PEM certificate in the file", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &Client{target: u, http: &http.Client{
		Transport: tr,
		Timeout:   timeout,
		// The client sees the backend's redirects as they are.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// Target is the backend's base URL.
func (c *Client) Target() string { return c.target.String() }

// Answer is what the backend answered.
type Answer struct {
	Status int
	Header http.Header // hop-by-hop headers removed
	Body   []byte
}

// hopHeaders are the hop-by-hop headers of RFC 9110 §7.6.1, removed in
// both directions as net/http/httputil.ReverseProxy does.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// removeHop deletes the hop-by-hop headers and those Connection names.
func removeHop(h http.Header) {
	for _, v := range h.Values("Connection") {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				h.Del(f)
			}
		}
	}
	for _, k := range hopHeaders {
		h.Del(k)
	}
}

// Forward sends req (whose body was read into body) to the backend,
// unchanged but for the hop-by-hop headers and X-Forwarded-*, and reads
// its answer.
func (c *Client) Forward(ctx context.Context, req *http.Request, body []byte) (*Answer, error) {
	u := *c.target
	u.Path = strings.TrimSuffix(c.target.Path, "/") + req.URL.Path
	u.RawPath = ""
	if c.target.RawPath != "" || req.URL.RawPath != "" {
		u.RawPath = strings.TrimSuffix(c.target.EscapedPath(), "/") + req.URL.EscapedPath()
	}
	u.RawQuery = req.URL.RawQuery
	out, err := http.NewRequestWithContext(ctx, req.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	out.Header = req.Header.Clone()
	removeHop(out.Header)
	out.Header.Del("X-Mock-Scenario") // the mock's own control, not the backend's
	// The answer is checked, so it must arrive as the body itself: without
	// the client's Accept-Encoding the transport asks for gzip on its own
	// and hands over the decompressed body (the client gets it uncompressed,
	// which Accept-Encoding allows).
	out.Header.Del("Accept-Encoding")
	if ip, _, err := net.SplitHostPort(req.RemoteAddr); err == nil {
		if prior := out.Header.Get("X-Forwarded-For"); prior != "" {
			ip = prior + ", " + ip
		}
		out.Header.Set("X-Forwarded-For", ip)
	}
	out.Header.Set("X-Forwarded-Host", req.Host)
	proto := "http"
	if req.TLS != nil {
		proto = "https"
	}
	out.Header.Set("X-Forwarded-Proto", proto)
	if len(body) == 0 && req.ContentLength == 0 {
		out.Body, out.ContentLength = http.NoBody, 0
	}
	res, err := c.http.Do(out)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, MaxAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("read the backend's answer: %w", err)
	}
	if len(b) > MaxAnswer {
		return nil, errors.New("the backend's answer is larger than 16 MiB, the most the proxy reads")
	}
	removeHop(res.Header)
	return &Answer{Status: res.StatusCode, Header: res.Header, Body: b}, nil
}
