// Fixture: sync.Mutex and sync.RWMutex contention between goroutines.
// Usage: mutex TRACEFILE
package main

import (
	"os"
	"runtime/trace"
	"sync"
	"time"
)

var counter int

func spin(n int) int {
	x := 1
	for i := 0; i < n; i++ {
		x = x*31 + i
	}
	return x
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

	// Mutex: each holder keeps the lock for a while so others park.
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				mu.Lock()
				counter += spin(20000)
				time.Sleep(50 * time.Microsecond)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()

	// RWMutex: readers overlap, a writer excludes them.
	var rw sync.RWMutex
	shared := 0
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				rw.RLock()
				_ = shared + spin(10000)
				time.Sleep(20 * time.Microsecond)
				rw.RUnlock()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 10; i++ {
			rw.Lock()
			shared += spin(20000)
			time.Sleep(100 * time.Microsecond)
			rw.Unlock()
		}
	}()
	wg.Wait()
	trace.Stop()
}
