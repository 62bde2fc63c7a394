// Fixture: allocation-heavy goroutines plus forced collections
// (runtime.GC), so the trace holds GC cycles, STW phases, heap-size
// updates and mark assists.
// Usage: gc TRACEFILE
package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/trace"
	"sync"
)

type node struct {
	next *node
	data [48]byte
}

var keep []*node

func alloc(n int) *node {
	var head *node
	for i := 0; i < n; i++ {
		head = &node{next: head}
		head.data[0] = byte(i)
	}
	return head
}

func main() {
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	defer f.Close()
	debug.SetGCPercent(50)
	if err := trace.Start(f); err != nil {
		panic(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				h := alloc(20000)
				mu.Lock()
				keep = append(keep, h)
				if len(keep) > 4 {
					keep = keep[1:]
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	runtime.GC()
	keep = nil
	runtime.GC()
	trace.Stop()
}
