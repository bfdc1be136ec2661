// Command gooracle is the yardstick for SockStatLog's JSON-lines parser: it
// reads lines the way Go's own encoding/json does, so a test can check that
// every line the Swift parser accepts means to it what it means to Go.
//
// Protocol, one line each way, hex so that no input byte can be mistaken for
// framing: each input line is the hex of one JSON line; for each, one output
// line "ok <hex>" or "error <hex>", where <hex> is json.Marshal of what
// json.Unmarshal filled (also after an error, as Go keeps going after type
// errors). Anything else on stdin is a fatal error (exit 2).
//
// Go 1.25 and later have two implementations of encoding/json, chosen by
// GOEXPERIMENT=jsonv2 (the default from Go 1.27); the test builds this
// program with each.
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// event is exactly Tailscale's sockstatlog event (the seed's struct).
type event struct {
	Time     int64                `json:"t"`
	Duration int64                `json:"d"`
	Cellular int                  `json:"c,omitempty"`
	Stats    map[string][2]uint64 `json:"s"`
}

func main() {
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for {
		text, err := in.ReadString('\n')
		if err == io.EOF && text == "" {
			return
		}
		if err != nil && err != io.EOF {
			fail(err)
		}
		if len(text) == 0 || text[len(text)-1] != '\n' {
			fail(fmt.Errorf("input line not terminated by a newline"))
		}
		line, err := hex.DecodeString(text[:len(text)-1])
		if err != nil {
			fail(err)
		}
		var filled event // fresh for every line: nothing carries over
		status := "ok"
		if json.Unmarshal(line, &filled) != nil {
			status = "error"
		}
		marshalled, err := json.Marshal(filled)
		if err != nil {
			fail(err)
		}
		fmt.Fprintf(out, "%s %x\n", status, marshalled)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gooracle:", err)
	os.Exit(2)
}
