// goreader reads a Go execution trace with Go's own streaming parser
// (internal/trace's Reader, as `go tool trace` does before any analysis)
// and counts the events: the peer `ctrace check` is measured against.
//
// internal/trace can only be imported from inside GOROOT/src, so
// bench/reader/run.sh builds this file with `go build -overlay`, which
// places it at GOROOT/src/ctracegoreader/main.go for the build only
// (nothing in GOROOT is written).  Standard library only.
//
//	goreader FILE    prints "N events"; exit 1 with the error if invalid
package main

import (
	"bufio"
	"fmt"
	"internal/trace"
	"io"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: goreader FILE")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	r, err := trace.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	n := 0
	for {
		_, err := r.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		n++
	}
	fmt.Println(n, "events")
}
