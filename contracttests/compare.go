package contracttests

import (
	"context"
	"fmt"
	"strings"

	"github.com/tokenmock/tokenmock/internal/shape"
)

// Differences says, one line each, how the answer got differs in shape
// from the answer want (package shape).
func Differences(want, got *Response) []string {
	return shape.Differences(shape.Of(want.Status, want.Header, want.Body), shape.Of(got.Status, got.Header, got.Body))
}

// Compare sends every sample request of want, in every answer media type,
// to both targets and reports, request by request, how the answers of got
// differ in shape from those of want.
func Compare(want, got *Suite) []string {
	var out []string
	for _, sm := range want.Samples {
		for _, accept := range sm.Op.ResponseTypes {
			req := Request{Op: sm.Op, ContentType: sm.MediaType, Accept: accept, Body: sm.Body, What: sm.Name}
			ra, errA := want.Do(context.Background(), req)
			rb, errB := got.Do(context.Background(), req)
			if errA != nil || errB != nil {
				out = append(out, fmt.Sprintf("%s: %s: %v / %s: %v", Describe(req), want.BaseURL, errA, got.BaseURL, errB))
				continue
			}
			if d := Differences(ra, rb); len(d) > 0 {
				out = append(out, fmt.Sprintf("%s %s→%s (%s): %s answers differently from %s:\n    %s",
					sm.Op.ID, kindOf(sm.MediaType), kindOf(accept), sm.Name, got.BaseURL, want.BaseURL, strings.Join(d, "\n    ")))
			}
		}
	}
	return out
}
