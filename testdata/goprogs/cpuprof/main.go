// Fixture: CPU profile samples in the trace. pprof.StartCPUProfile runs
// alongside trace.Start, and a CPU-bound loop gives the profiler time to
// sample (100 Hz by default, so ~300 ms of CPU gives ~30 samples).
// Usage: cpuprof TRACEFILE
package main

import (
	"io"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"sync"
	"time"
)

var sink uint64

//go:noinline
func hashLoop(d time.Duration) uint64 {
	var x uint64 = 88172645463325252
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for i := 0; i < 10000; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
	}
	return x
}

//go:noinline
func otherLoop(d time.Duration) uint64 {
	var x uint64 = 1
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for i := 0; i < 10000; i++ {
			x = x*2862933555777941757 + 3037000493
		}
	}
	return x
}

func main() {
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		panic(err)
	}
	if err := trace.Start(f); err != nil {
		panic(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wg.Add(2)
	go func() {
		defer wg.Done()
		v := hashLoop(300 * time.Millisecond)
		mu.Lock()
		sink += v
		mu.Unlock()
	}()
	go func() {
		defer wg.Done()
		v := otherLoop(150 * time.Millisecond)
		mu.Lock()
		sink += v
		mu.Unlock()
	}()
	wg.Wait()
	trace.Stop()
	pprof.StopCPUProfile()
}
