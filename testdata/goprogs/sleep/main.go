// Fixture: time.Sleep in several goroutines, and a time.Ticker.
// Usage: sleep TRACEFILE
package main

import (
	"os"
	"runtime/trace"
	"sync"
	"time"
)

func main() {
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if err := trace.Start(f); err != nil {
		panic(err)
	}
	var wg sync.WaitGroup
	for g := 1; g <= 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				time.Sleep(time.Duration(g) * 500 * time.Microsecond)
			}
		}(g)
	}
	t := time.NewTicker(2 * time.Millisecond)
	for i := 0; i < 10; i++ {
		<-t.C
	}
	t.Stop()
	wg.Wait()
	trace.Stop()
}
