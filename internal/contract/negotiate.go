package contract

import (
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/tokenmock/tokenmock/internal/problem"
)

// RequestMediaType returns which of the operation's request media types the
// Content-Type header names: a 415 problem when none. A charset other than
// utf-8 (or utf-16, which .NET writes, for XML) is refused.
func (o *Operation) RequestMediaType(contentType string) (string, *problem.Problem) {
	for _, t := range o.RequestTypes {
		// The forms clients send, without parsing.
		if contentType == t || (len(contentType) == len(t)+len("; charset=utf-8") && strings.HasPrefix(contentType, t) && strings.EqualFold(contentType[len(t):], "; charset=utf-8")) {
			return t, nil
		}
	}
	offered := strings.Join(o.RequestTypes, ", ")
	if contentType == "" {
		return "", problem.Newf(http.StatusUnsupportedMediaType, "Content-Type is missing; %s accepts %s", o.ID, offered)
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", problem.Newf(http.StatusUnsupportedMediaType, "Content-Type %q does not parse: %v", contentType, err)
	}
	if !slices.Contains(o.RequestTypes, mt) {
		return "", problem.Newf(http.StatusUnsupportedMediaType, "Content-Type %s is not accepted by %s; it accepts %s", mt, o.ID, offered)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !(IsXML(mt) && strings.EqualFold(cs, "utf-16")) {
		return "", problem.Newf(http.StatusUnsupportedMediaType, "charset %s is not supported; send utf-8 (or utf-16 for XML)", cs)
	}
	return mt, nil
}

// acceptRange is one media range of an Accept header.
type acceptRange struct {
	typ, sub string
	q        float64
}

// parseAccept parses an Accept header. Ranges that do not parse are
// ignored, as RFC 9110 lets a server do.
func parseAccept(h string) []acceptRange {
	var out []acceptRange
	for part := range strings.SplitSeq(h, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		mt, params, err := mime.ParseMediaType(part)
		if err != nil {
			continue
		}
		typ, sub, ok := strings.Cut(mt, "/")
		if !ok {
			continue
		}
		q := 1.0
		if qs, ok := params["q"]; ok {
			f, err := strconv.ParseFloat(qs, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		out = append(out, acceptRange{typ: typ, sub: sub, q: q})
	}
	return out
}

// quality is the q an Accept list gives a media type: that of the most
// specific range that matches it, -1 when none does.
func quality(ranges []acceptRange, mediaType string) float64 {
	typ, sub, _ := strings.Cut(mediaType, "/")
	best, spec := -1.0, -1
	for _, r := range ranges {
		s := -1
		switch {
		case r.typ == typ && r.sub == sub:
			s = 2
		case r.typ == typ && r.sub == "*":
			s = 1
		case r.typ == "*" && r.sub == "*":
			s = 0
		}
		if s > spec {
			best, spec = r.q, s
		}
	}
	return best
}

// Negotiate picks the media type of the answer among offers: the one Accept
// rates highest; on a tie, or without Accept, the request's own media type
// if offered, else the first offer. A 406 problem when Accept excludes all.
func Negotiate(accept, requestType string, offers []string) (string, *problem.Problem) {
	if len(offers) == 0 {
		return "", nil
	}
	if slices.Contains(offers, accept) {
		return accept, nil // the common exact Accept, without parsing
	}
	if accept == "*/*" || strings.TrimSpace(accept) == "" {
		if slices.Contains(offers, requestType) {
			return requestType, nil
		}
		return offers[0], nil
	}
	ranges := parseAccept(accept)
	if len(ranges) == 0 {
		// Nothing in Accept parses: as if there were no Accept.
		return Negotiate("", requestType, offers)
	}
	best, bestQ := "", 0.0
	for _, o := range offers {
		q := quality(ranges, o)
		if q <= 0 {
			continue
		}
		if q > bestQ || (q == bestQ && o == requestType) {
			best, bestQ = o, q
		}
	}
	if best == "" {
		return "", problem.Newf(http.StatusNotAcceptable, "Accept %q matches none of the media types of the answer: %s", accept, strings.Join(offers, ", "))
	}
	return best, nil
}

// WantsXML tells in which format to write a problem: XML when Accept rates
// XML above JSON, or without a preference when the request itself is XML.
func WantsXML(accept, contentType string) bool {
	reqType, _, _ := mime.ParseMediaType(contentType)
	mt, _ := Negotiate(accept, normalizeXML(reqType), []string{"application/json", "application/xml"})
	return mt == "application/xml"
}

func normalizeXML(mt string) string {
	if IsXML(mt) {
		return "application/xml"
	}
	return mt
}
