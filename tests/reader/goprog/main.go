// goprog writes a Go execution trace for the reader tests (fresh_go.sh,
// split_vs_sequential.sh): goroutines contending on a mutex, channels and
// timers, syscalls, GC, CPU samples, a task with regions and logs, and --
// across every generation -- a region left open and a goroutine blocked.
//
//	goprog OUT.trace [DURATION_MS]   (default 1300)
package main

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"sync"
	"time"
)

var sink []byte

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func main() {
	f, _ := os.Create(os.Args[1])
	defer f.Close()
	ms := 1300
	if len(os.Args) > 2 {
		ms, _ = strconv.Atoi(os.Args[2])
	}
	pprof.StartCPUProfile(new(discard))
	trace.Start(f)
	ctx, task := trace.NewTask(context.Background(), "main")
	outer := trace.StartRegion(ctx, "outer") // open across every generation
	block := make(chan int)
	go func() { <-block }() // blocked across every generation
	var mu sync.Mutex
	var wg sync.WaitGroup
	ch := make(chan int)
	deadline := time.Now().Add(time.Duration(ms) * time.Millisecond)
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			long := trace.StartRegion(ctx, "long")
			for time.Now().Before(deadline) {
				trace.WithRegion(ctx, "work", func() {
					mu.Lock()
					sink = make([]byte, 1<<15)
					mu.Unlock()
				})
				select {
				case ch <- i:
				case <-time.After(time.Millisecond):
				}
				trace.Log(ctx, "iter", "x")
				os.Getpid()
				time.Sleep(100 * time.Microsecond)
			}
			long.End()
		}(i)
	}
	go func() {
		for range ch {
		}
	}()
	wg.Wait()
	close(block)
	outer.End()
	runtime.GC()
	task.End()
	trace.Stop()
	pprof.StopCPUProfile()
}
