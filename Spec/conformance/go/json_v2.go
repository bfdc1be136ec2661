//go:build goexperiment.jsonv2

package main

// encoding/json on encoding/json/v2 (GOEXPERIMENT=jsonv2, the default from
// Go 1.27) writes each byte of invalid UTF-8 in a string as a raw U+FFFD,
// where the classic encoder, and so FORMAT.md section 9, write the escape
// \ufffd (golang/go#75163, deliberate). Every other byte of the output is
// the same. Such a build warns when it meets such a label.
const jsonEscapesInvalidUTF8 = false
