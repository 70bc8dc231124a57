// Package contract is openapi.yaml made executable: it loads and validates
// the spec, finds the operation of a request through kin-openapi's router,
// and checks a request (security, media types, body) or an answer against
// it, turning every failure into a problem.Problem that names the place and
// the rule. It knows nothing of Echo: the HTTP layer calls it.
package contract

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/tokenmock/tokenmock/internal/jsoncodec"
	"github.com/tokenmock/tokenmock/internal/problem"
	"github.com/tokenmock/tokenmock/internal/xmlcodec"
)

// Contract is a loaded, validated spec with its router.
type Contract struct {
	Doc        *openapi3.T
	Operations []*Operation // sorted by ID
	router     routers.Router
	byOp       map[*openapi3.Operation]*Operation
	byID       map[string]*Operation
	// The body decoders of this contract, with its limits. They are never
	// registered in openapi3filter's process-wide registry: two contracts
	// in one process (two servers, a reload) each keep their own.
	jsonDecoder openapi3filter.BodyDecoder
	xmlCodec    *xmlcodec.Codec
}

// Operation is what the server needs of one operation, derived once.
type Operation struct {
	contract *Contract
	ID       string
	Method   string
	Path     string
	Route    *routers.Route
	// RequestTypes are the media types the request body may have.
	RequestTypes []string
	// ResponseTypes are the media types the operation's successful answers
	// offer, the candidates of content negotiation.
	ResponseTypes []string
	// RequestSchemas maps each request media type to its body schema.
	RequestSchemas map[string]*openapi3.Schema
	security       openapi3.SecurityRequirements
	apiKeyHeaders  []string              // of the API keys in a header the requirements name
	onlyAPIKeys    bool                  // every requirement is one API key in a header
	bodies         map[string]*bodyCheck // per request media type
}

// Limits bound the bodies the decoders accept; zero values mean defaults.
type Limits struct {
	MaxDepth    int // nesting of JSON and XML bodies
	MaxXMLNodes int // elements and attributes of an XML body
}

// Load parses and validates a spec with the default limits. name is used
// in messages (a file path).
func Load(data []byte, name string) (*Contract, error) {
	return LoadWith(data, name, Limits{})
}

// LoadWith is Load with limits. Nothing it builds is shared with another
// contract: a failed load leaves no trace.
func LoadWith(data []byte, name string, lim Limits) (*Contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load spec %s: %w", name, err)
	}
	// kin-openapi checks examples as JSON values; an XML example is a
	// string, so examples are checked below, each through its media type.
	if err := doc.Validate(loader.Context, openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("validate spec %s: %w", name, err)
	}
	// An absolute server URL would make the router refuse every request to
	// another host, such as 127.0.0.1:PORT; the mock answers on any host.
	doc.Servers = nil
	router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
	if err != nil {
		return nil, fmt.Errorf("build router for %s: %w", name, err)
	}
	c := &Contract{Doc: doc, router: router, byOp: map[*openapi3.Operation]*Operation{}, byID: map[string]*Operation{},
		jsonDecoder: jsoncodec.NewBodyDecoder(jsoncodec.Limits{MaxDepth: lim.MaxDepth}),
		xmlCodec:    xmlcodec.NewCodec(xmlcodec.Limits{MaxDepth: lim.MaxDepth, MaxNodes: lim.MaxXMLNodes}),
	}
	var problems []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			o, err := c.newOperation(path, item, method, op)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			if prev := c.byID[o.ID]; prev != nil {
				problems = append(problems, fmt.Sprintf("operationId %s is used by %s %s and %s %s", o.ID, prev.Method, prev.Path, method, path))
				continue
			}
			c.byOp[op] = o
			c.byID[o.ID] = o
			c.Operations = append(c.Operations, o)
		}
	}
	problems = append(problems, checkExamples(doc)...)
	if len(problems) > 0 {
		slices.Sort(problems)
		return nil, fmt.Errorf("spec %s: %s", name, strings.Join(problems, "; "))
	}
	slices.SortFunc(c.Operations, func(a, b *Operation) int { return strings.Compare(a.ID, b.ID) })
	return c, nil
}

func (c *Contract) newOperation(path string, item *openapi3.PathItem, method string, op *openapi3.Operation) (*Operation, error) {
	doc := c.Doc
	where := fmt.Sprintf("paths.%s.%s", path, strings.ToLower(method))
	if op.OperationID == "" {
		return nil, fmt.Errorf("%s: operationId is missing: fixtures are found by it", where)
	}
	o := &Operation{
		contract:       c,
		ID:             op.OperationID,
		Method:         method,
		Path:           path,
		Route:          &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op},
		RequestSchemas: map[string]*openapi3.Schema{},
		bodies:         map[string]*bodyCheck{},
	}
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		for mt, media := range op.RequestBody.Value.Content {
			mt = strings.ToLower(mt)
			o.RequestTypes = append(o.RequestTypes, mt)
			o.bodies[mt] = c.newBodyCheck(op.RequestBody.Value, mt, media)
			if media.Schema != nil && media.Schema.Value != nil {
				o.RequestSchemas[mt] = media.Schema.Value
				if IsXML(mt) {
					if err := xmlcodec.CheckBodySchema(media.Schema.Value); err != nil {
						return nil, fmt.Errorf("%s: requestBody %s: %w", where, mt, err)
					}
				}
			}
		}
		slices.Sort(o.RequestTypes)
	}
	seen := map[string]bool{}
	for code, resp := range op.Responses.Map() {
		if resp.Value == nil {
			continue
		}
		for mt, media := range resp.Value.Content {
			mt = strings.ToLower(mt)
			if IsXML(mt) && media.Schema != nil && media.Schema.Value != nil {
				if err := xmlcodec.CheckBodySchema(media.Schema.Value); err != nil {
					return nil, fmt.Errorf("%s: responses.%s %s: %w", where, code, mt, err)
				}
			}
			if strings.HasPrefix(code, "2") && !seen[mt] {
				seen[mt] = true
				o.ResponseTypes = append(o.ResponseTypes, mt)
			}
		}
	}
	slices.Sort(o.ResponseTypes)
	if op.Security != nil {
		o.security = *op.Security
	} else {
		o.security = doc.Security
	}
	o.apiKeyHeaders, o.onlyAPIKeys = apiKeyHeaders(doc, o.security)
	return o, nil
}

// Decoder returns the contract's body decoder for a media type: the strict
// JSON decoder for JSON (and +json), the schema-guided XML decoder for XML
// (and +xml), nil for anything else.
func (c *Contract) Decoder(mediaType string) openapi3filter.BodyDecoder {
	switch {
	case IsJSON(mediaType):
		return c.jsonDecoder
	case IsXML(mediaType):
		return c.xmlCodec.BodyDecoder()
	}
	return nil
}

// XML is the contract's XML codec.
func (c *Contract) XML() *xmlcodec.Codec { return c.xmlCodec }

// apiKeyHeaders returns the header names of the API keys in a header that
// the requirements name, sorted, and whether every requirement is exactly
// one of them.
func apiKeyHeaders(doc *openapi3.T, reqs openapi3.SecurityRequirements) (headers []string, only bool) {
	only = len(reqs) > 0
	for _, req := range reqs {
		only = only && len(req) == 1
		for name := range req {
			ref := doc.Components.SecuritySchemes[name]
			if ref == nil || ref.Value == nil || ref.Value.Type != "apiKey" || ref.Value.In != "header" {
				only = false
				continue
			}
			headers = append(headers, ref.Value.Name)
		}
	}
	slices.Sort(headers)
	return slices.Compact(headers), only
}

// APIKeyHeaders lists the headers that carry the API keys the operation's
// security asks for: a client sends its key in them, and the mock checks
// that one of them is present and not empty.
func (o *Operation) APIKeyHeaders() []string { return o.apiKeyHeaders }

// Operation returns the operation with the given operationId, or nil.
func (c *Contract) Operation(id string) *Operation { return c.byID[id] }

// Find returns the operation a request is for: a 404 problem for an unknown
// path, a 405 with an Allow header for a known path and another method.
func (c *Contract) Find(req *http.Request) (*Operation, map[string]string, *problem.Problem) {
	route, params, err := c.router.FindRoute(req)
	if err == nil && !sameShape(req.URL.EscapedPath(), route.Path) {
		return nil, nil, problem.Newf(http.StatusNotFound, "no operation of the contract has the path %s (an encoded or trailing slash is not the operation's path)", req.URL.EscapedPath())
	}
	if err == nil {
		return c.byOp[route.Operation], params, nil
	}
	// The legacy router tells a wrong method from an unknown path only for
	// paths without parameters, so ask it about every method instead.
	if allow := c.allowed(req); len(allow) > 0 {
		p := problem.Newf(http.StatusMethodNotAllowed, "%s is not allowed on %s; allowed: %s", req.Method, req.URL.Path, strings.Join(allow, ", "))
		p.Header = http.Header{"Allow": {strings.Join(allow, ", ")}}
		return nil, nil, p
	}
	return nil, nil, problem.Newf(http.StatusNotFound, "no operation of the contract has the path %s", req.URL.Path)
}

// allowed lists the methods the router accepts for req's path. It asks the
// router itself so that path templates match exactly as for routing.
func (c *Contract) allowed(req *http.Request) []string {
	var out []string
	r := *req // shallow: the router reads only the method and URL
	for _, m := range []string{http.MethodDelete, http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPatch, http.MethodPost, http.MethodPut, http.MethodTrace} {
		r.Method = m
		if route, _, err := c.router.FindRoute(&r); err == nil && sameShape(req.URL.EscapedPath(), route.Path) {
			out = append(out, m)
		}
	}
	return out
}

// MediaType is the media type of a header's Content-Type: lower-case,
// without its parameters ("" when there is none).
func MediaType(h http.Header) string {
	return strings.ToLower(strings.TrimSpace(strings.Split(h.Get("Content-Type"), ";")[0]))
}

// IsXML reports whether a media type carries XML.
func IsXML(mediaType string) bool {
	return mediaType == "application/xml" || mediaType == "text/xml" || strings.HasSuffix(mediaType, "+xml")
}

// IsJSON reports whether a media type carries JSON.
func IsJSON(mediaType string) bool {
	return mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}
