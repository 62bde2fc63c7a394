// Fixture: goroutine creation, running, ending, and a WaitGroup join.
// Usage: goroutines TRACEFILE
package main

import (
	"os"
	"runtime"
	"runtime/trace"
	"sync"
)

var sink uint64

func spin(n int) uint64 {
	var x uint64 = 1
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

func worker(id int, wg *sync.WaitGroup, out []uint64) {
	defer wg.Done()
	out[id] = spin(20000 + id*1000)
	runtime.Gosched()
	out[id] += spin(1000)
}

func main() {
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if err := trace.Start(f); err != nil {
		panic(err)
	}
	out := make([]uint64, 32)
	for round := 0; round < 3; round++ {
		var wg sync.WaitGroup
		for i := 0; i < len(out); i++ {
			wg.Add(1)
			go worker(i, &wg, out)
		}
		wg.Wait()
	}
	for _, v := range out {
		sink += v
	}
	trace.Stop()
}
