// genbig writes a large Go execution trace for the reader benchmark:
// goroutines ping-ponging on channels, contending on a mutex, allocating
// (GC), with tasks, regions and logs, until the trace reaches the size
// given in MB (default 200).  Standard library only.
package main

import (
	"context"
	"os"
	"runtime"
	"runtime/trace"
	"strconv"
	"sync"
	"sync/atomic"
)

type counter struct {
	f *os.File
	n atomic.Int64
}

func (c *counter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return c.f.Write(p)
}

var sink []byte

func main() {
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	limit := int64(200)
	if len(os.Args) > 2 {
		limit, _ = strconv.ParseInt(os.Args[2], 10, 64)
	}
	limit <<= 20
	w := &counter{f: f}
	trace.Start(w)
	var stop atomic.Bool
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		a, b := make(chan int), make(chan int)
		wg.Add(2)
		go func() {
			defer wg.Done()
			ctx, task := trace.NewTask(context.Background(), "pingpong")
			for n := 0; !stop.Load(); n++ {
				trace.WithRegion(ctx, "send", func() { a <- n })
				<-b
				if n%64 == 0 {
					mu.Lock()
					sink = make([]byte, 4096)
					mu.Unlock()
					trace.Log(ctx, "progress", "tick")
				}
			}
			close(a)
			task.End()
		}()
		go func() {
			defer wg.Done()
			for n := range a {
				b <- n
				runtime.Gosched()
			}
		}()
	}
	for w.n.Load() < limit {
		runtime.Gosched()
	}
	stop.Store(true)
	wg.Wait()
	trace.Stop()
	f.Close()
}
