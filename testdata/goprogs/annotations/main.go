// Fixture: user annotations: tasks (nested, one spanning goroutines),
// regions (WithRegion, StartRegion, nested), and logs with and without a
// category (Log, Logf).
// Usage: annotations TRACEFILE
package main

import (
	"context"
	"os"
	"runtime/trace"
	"sync"
	"time"
)

func step(ctx context.Context, i int) {
	trace.WithRegion(ctx, "step", func() {
		r := trace.StartRegion(ctx, "inner")
		trace.Logf(ctx, "progress", "step %d", i)
		time.Sleep(100 * time.Microsecond)
		r.End()
	})
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
	ctx, job := trace.NewTask(context.Background(), "job")
	trace.Log(ctx, "", "job started")
	for i := 0; i < 3; i++ {
		step(ctx, i)
	}

	// A child task whose work spans two goroutines.
	cctx, child := trace.NewTask(ctx, "fanout")
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			defer trace.StartRegion(cctx, "worker").End()
			trace.Logf(cctx, "worker", "goroutine %d", g)
			time.Sleep(200 * time.Microsecond)
		}(g)
	}
	wg.Wait()
	child.End()

	// Several short tasks of one name, for latency statistics.
	for i := 0; i < 20; i++ {
		tctx, t := trace.NewTask(ctx, "request")
		trace.WithRegion(tctx, "handle", func() {
			time.Sleep(time.Duration(50+10*i) * time.Microsecond)
		})
		t.End()
	}
	trace.Log(ctx, "result", "ok")
	job.End()

	// A region and a log outside any task.
	trace.WithRegion(context.Background(), "untasked", func() {
		trace.Log(context.Background(), "misc", "no task")
	})
	trace.Stop()
}
