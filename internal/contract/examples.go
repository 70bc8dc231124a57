package contract

import (
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/tokenmock/tokenmock/internal/xmlcodec"
)

// checkExamples validates every example of every request and response
// body against its schema: JSON values directly, XML examples (strings)
// through the XML decoder first, so an XML example must be in DataContract
// form just as a request would.
func checkExamples(doc *openapi3.T) []string {
	var out []string
	check := func(where, mt string, media *openapi3.MediaType) {
		if media == nil || media.Schema == nil || media.Schema.Value == nil {
			return
		}
		s := media.Schema.Value
		examples := map[string]any{}
		if media.Example != nil {
			examples["example"] = media.Example
		}
		for name, ex := range media.Examples {
			if ex != nil && ex.Value != nil {
				examples["examples."+name] = ex.Value.Value
			}
		}
		for name, v := range examples {
			at := fmt.Sprintf("%s.content.%s.%s", where, mt, name)
			if IsXML(strings.ToLower(mt)) {
				text, ok := v.(string)
				if !ok {
					out = append(out, at+": an XML example must be a string holding the document")
					continue
				}
				dv, err := xmlcodec.Decode([]byte(text), s, xmlcodec.Limits{})
				if err != nil {
					out = append(out, fmt.Sprintf("%s: %v", at, err))
					continue
				}
				v = dv
			}
			if err := s.VisitJSON(v, openapi3.MultiErrors()); err != nil {
				out = append(out, fmt.Sprintf("%s: %s", at, (&Mismatch{Violations: Violations(err, mt, s)}).Error()))
			}
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := fmt.Sprintf("paths.%s.%s", path, strings.ToLower(method))
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for mt, media := range op.RequestBody.Value.Content {
					check(where+".requestBody", mt, media)
				}
			}
			for code, resp := range op.Responses.Map() {
				if resp.Value == nil {
					continue
				}
				for mt, media := range resp.Value.Content {
					check(where+".responses."+code, mt, media)
				}
			}
		}
	}
	return out
}
