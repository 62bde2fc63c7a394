// Fixture: blocking system calls (file create/write/fsync/read/remove) in
// several goroutines.
// Usage: syscall TRACEFILE
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/trace"
	"sync"
	"syscall"
)

func fileWork(dir string, id int) error {
	name := filepath.Join(dir, fmt.Sprintf("f%d", id))
	buf := make([]byte, 4096)
	for i := range buf {
		buf[i] = byte(i + id)
	}
	w, err := os.Create(name)
	if err != nil {
		return err
	}
	for i := 0; i < 8; i++ {
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	if err := w.Sync(); err != nil {
		return err
	}
	w.Close()
	r, err := os.Open(name)
	if err != nil {
		return err
	}
	for {
		n, err := r.Read(buf)
		if n == 0 || err != nil {
			break
		}
	}
	r.Close()
	return os.Remove(name)
}

func main() {
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	defer f.Close()
	dir, err := os.MkdirTemp("", "ctrace-syscall")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if err := trace.Start(f); err != nil {
		panic(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			if err := fileWork(dir, g); err != nil {
				panic(err)
			}
		}(g)
	}
	wg.Wait()
	// A few raw system calls as well.
	for i := 0; i < 20; i++ {
		syscall.Getpid()
		var st syscall.Stat_t
		syscall.Stat(dir, &st)
	}
	trace.Stop()
}
