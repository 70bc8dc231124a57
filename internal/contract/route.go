package contract

import "strings"

// sameShape reports whether a request's path, as sent (percent-escapes
// kept), has the segments of an operation's path template. The router
// matches the decoded path, where `token%2frequest` reads as two segments
// `token/request`, and it forgives a trailing slash: neither is the
// operation's path unless the spec writes it so.
func sameShape(escaped, template string) bool {
	return strings.Count(escaped, "/") == strings.Count(template, "/")
}
