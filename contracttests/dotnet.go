package contracttests

import (
	"embed"
	"encoding/xml"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/tokenmock/tokenmock/contracttests/dotnetxml"
	"github.com/tokenmock/tokenmock/internal/contract"
)

// The bodies the real .NET serializers write for the AppSpace contracts,
// and the schema .NET exports for them (make dotnet-golden). Embedded, so
// that the suite's binary judges XML the same wherever it runs.
//
//go:embed testdata/dotnet
var dotnetFiles embed.FS

// DotnetGoldens is the directory of .NET-written goldens: <Contract>.<case>.xml
// and .json, and the contracts' XSDs.
func DotnetGoldens() fs.FS {
	sub, err := fs.Sub(dotnetFiles, "testdata/dotnet")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	return sub
}

// goldenSamples are the requests a .NET client writes, from the goldens:
// for each operation whose XML request body is a contract the goldens
// hold, every golden of that contract, in XML and in JSON.
func goldenSamples(c *contract.Contract) ([]Sample, error) {
	files, err := fs.ReadDir(DotnetGoldens(), ".")
	if err != nil {
		return nil, err
	}
	var out []Sample
	for _, op := range c.Operations {
		var name string
		for mt, s := range op.RequestSchemas {
			if contract.IsXML(mt) && s != nil && s.XML != nil {
				name = s.XML.Name
			}
		}
		if name == "" {
			continue
		}
		for _, f := range files {
			ext := path.Ext(f.Name())
			base := strings.TrimSuffix(f.Name(), ext)
			if !strings.HasPrefix(base, name+".") {
				continue
			}
			mt := map[string]string{".xml": "application/xml", ".json": "application/json"}[ext]
			if op.RequestSchemas[mt] == nil {
				continue
			}
			body, err := fs.ReadFile(DotnetGoldens(), f.Name())
			if err != nil {
				return nil, err
			}
			out = append(out, Sample{Op: op, Name: "golden:" + base, MediaType: mt, Body: body})
		}
	}
	return out, nil
}

// checkDotnet judges an XML answer by the .NET oracle when the spec says
// its body is a contract the goldens hold. It goes neither through the
// mock's XML decoder nor through the spec's xml objects: only the
// document element expected is taken from the spec.
func (s *Suite) checkDotnet(r Reporter, fail func(string, ...any), req Request, resp *Response) {
	r.Helper()
	mt := mediaOf(resp.Header)
	if s.Oracle == nil || len(resp.Body) == 0 || !contract.IsXML(mt) {
		return
	}
	want := expectedRoots(req.Op, resp.Status, mt)
	var known []xml.Name
	for _, r := range want {
		if s.Oracle.Knows(r) {
			known = append(known, r)
		}
	}
	if len(known) == 0 {
		return
	}
	root := known[0]
	if got, ok := dotnetxml.RootOf(resp.Body); ok {
		switch {
		case slices.Contains(known, got):
			root = got
		case slices.Contains(want, got):
			return // another body the spec allows here, which no golden shows
		}
	}
	for _, f := range s.Oracle.Check(resp.Body, root) {
		fail("%s", f)
	}
}

// expectedRoots are the document elements the spec allows for an answer:
// its schema's xml name, or those of each oneOf/anyOf.
func expectedRoots(op *contract.Operation, status int, mediaType string) []xml.Name {
	ref := op.Route.Operation.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		return nil
	}
	media := ref.Value.Content.Get(mediaType)
	if media == nil || media.Schema == nil || media.Schema.Value == nil {
		return nil
	}
	s := media.Schema.Value
	alts := []*openapi3.Schema{s}
	if refs := append(slices.Clone(s.OneOf), s.AnyOf...); len(refs) > 0 {
		alts = alts[:0]
		for _, r := range refs {
			if r != nil && r.Value != nil {
				alts = append(alts, r.Value)
			}
		}
	}
	var out []xml.Name
	for _, a := range alts {
		if a.XML != nil && a.XML.Name != "" {
			out = append(out, xml.Name{Space: a.XML.Namespace, Local: a.XML.Name})
		}
	}
	return out
}

// loadOracle is the oracle of the embedded goldens.
func loadOracle() (*dotnetxml.Oracle, error) {
	o, err := dotnetxml.Load(DotnetGoldens())
	if err != nil {
		return nil, fmt.Errorf("the .NET goldens (contracttests/testdata/dotnet): %w", err)
	}
	return o, nil
}
