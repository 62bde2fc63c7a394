// Fixture: a trace spanning several generations (Go 1.22+ starts a new
// generation about once a second), with goroutines, a task and a region
// that stay open across the generation boundaries.
// Usage: generations TRACEFILE
package main

import (
	"context"
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
	ctx, task := trace.NewTask(context.Background(), "long")
	region := trace.StartRegion(ctx, "whole")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			t := time.NewTicker(time.Duration(20+5*g) * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					trace.Log(ctx, "tick", "")
				case <-stop:
					return
				}
			}
		}(g)
	}
	time.Sleep(1300 * time.Millisecond)
	close(stop)
	wg.Wait()
	region.End()
	task.End()
	trace.Stop()
}
