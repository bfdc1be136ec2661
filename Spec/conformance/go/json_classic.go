//go:build !goexperiment.jsonv2

package main

// The classic encoding/json writes invalid UTF-8 as \ufffd, as FORMAT.md
// section 9 says (see json_v2.go).
const jsonEscapesInvalidUTF8 = true
