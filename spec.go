// Package tokenmock holds the contract that everything else is built from:
// openapi.yaml, embedded so that the mockserver binary runs with no files.
package tokenmock

import _ "embed"

// Spec is the embedded openapi.yaml.
//
//go:embed openapi.yaml
var Spec []byte

// SpecName names the embedded spec in messages.
const SpecName = "openapi.yaml (embedded)"

// AdminSpec is the embedded admin.yaml: the admin API under /__mock.
//
//go:embed admin.yaml
var AdminSpec []byte
