package contracttests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/beevik/etree"

	"github.com/tokenmock/tokenmock/mockserver/contract"
)

// Shape describes an answer by its form, not its values: status, media
// type, the headers present, and one line per member (JSON pointer and
// type) or element (path with namespace, position among its siblings, and
// whether it holds text, elements or nil). Values that legitimately vary,
// tokens and dates, therefore compare equal.
func Shape(resp *Response) []string {
	out := []string{
		fmt.Sprintf("status %d", resp.Status),
		"content-type " + mediaOf(resp.Header),
	}
	for k := range resp.Header {
		switch strings.ToLower(k) {
		case "date", "content-length", "connection", "keep-alive", "server", "x-mock-scenario-applied":
			continue
		}
		out = append(out, "header "+strings.ToLower(k))
	}
	mt := mediaOf(resp.Header)
	switch {
	case contract.IsJSON(mt):
		var v any
		dec := json.NewDecoder(bytes.NewReader(resp.Body))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			out = append(out, "body: not JSON")
		} else {
			jsonShape(&out, "", v)
		}
	case contract.IsXML(mt):
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(resp.Body); err != nil || doc.Root() == nil {
			out = append(out, "body: not XML")
		} else {
			xmlShape(&out, "", doc.Root(), 1)
		}
	case len(resp.Body) > 0:
		out = append(out, "body: "+mt)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func jsonShape(out *[]string, path string, v any) {
	switch t := v.(type) {
	case map[string]any:
		*out = append(*out, path+": object")
		for k, e := range t {
			jsonShape(out, path+"/"+k, e)
		}
	case []any:
		*out = append(*out, path+": array")
		for _, e := range t {
			jsonShape(out, path+"/*", e) // items merge: counts vary
		}
	case string:
		*out = append(*out, path+": string")
	case json.Number:
		*out = append(*out, path+": number")
	case bool:
		*out = append(*out, path+": boolean")
	case nil:
		*out = append(*out, path+": null")
	}
}

func xmlShape(out *[]string, path string, el *etree.Element, pos int) {
	p := fmt.Sprintf("%s/{%s}%s", path, el.NamespaceURI(), el.Tag)
	kind := "text"
	switch {
	case el.SelectAttrValue("i:nil", "") == "true":
		kind = "nil"
	case len(el.ChildElements()) > 0:
		kind = "elements"
	}
	if strings.HasSuffix(path, "*") {
		*out = append(*out, fmt.Sprintf("%s: %s", p, kind)) // items: position varies
	} else {
		*out = append(*out, fmt.Sprintf("%s: %s, position %d", p, kind, pos))
	}
	kids := el.ChildElements()
	allSame := len(kids) > 1
	for _, k := range kids {
		allSame = allSame && k.Tag == kids[0].Tag
	}
	for i, k := range kids {
		if allSame {
			xmlShape(out, p+"/*", k, 0)
		} else {
			xmlShape(out, p, k, i+1)
		}
	}
}

// ShapeDiff lists the lines of the shape of a that b lacks ("- ") and of b
// that a lacks ("+ ").
func ShapeDiff(a, b []string) []string {
	var out []string
	for _, l := range a {
		if _, ok := slices.BinarySearch(b, l); !ok {
			out = append(out, "- "+l)
		}
	}
	for _, l := range b {
		if _, ok := slices.BinarySearch(a, l); !ok {
			out = append(out, "+ "+l)
		}
	}
	return out
}

// Compare sends every sample request of a, in every answer media type, to
// both targets and reports where the answers differ in shape.
func Compare(a, b *Suite) []string {
	var out []string
	for _, sm := range a.Samples {
		for _, accept := range sm.Op.ResponseTypes {
			req := Request{Op: sm.Op, ContentType: sm.MediaType, Accept: accept, Body: sm.Body, What: sm.Name}
			ra, errA := a.Do(context.Background(), req)
			rb, errB := b.Do(context.Background(), req)
			if errA != nil || errB != nil {
				out = append(out, fmt.Sprintf("%s: %s: %v / %s: %v", Describe(req), a.BaseURL, errA, b.BaseURL, errB))
				continue
			}
			if d := ShapeDiff(Shape(ra), Shape(rb)); len(d) > 0 {
				out = append(out, fmt.Sprintf("%s %s→%s (%s): answers differ (- %s, + %s):\n    %s",
					sm.Op.ID, kindOf(sm.MediaType), kindOf(accept), sm.Name, a.BaseURL, b.BaseURL, strings.Join(d, "\n    ")))
			}
		}
	}
	return out
}
