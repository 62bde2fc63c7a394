// tracerbench measures what Go's execution tracer costs per event, for the
// operations ctrace's own benchmark times: a user region (begin+end), a
// user log, and a goroutine block/unblock pair.
//
// For each case it times a loop with tracing off and with tracing on (best
// of -reps runs each), and prints
//
//	go123 <case> <ns_per_event> <bytes_per_event>
//
// where ns_per_event is the CPU time tracing added per trace event
// ((wall_on - wall_off) * goroutines / events) and bytes_per_event is
// trace bytes / events of the traced run. The number of events an operation
// makes is measured, not assumed: two short traced runs of n and 2n
// operations are written to files and counted with this toolchain's own
// `go tool trace -d=1`; the difference divided by n is events per op (it
// cancels the fixed events of starting and stopping the tracer). Lines
// starting with '#' give the details.
//
// Cases (GOMAXPROCS in the name: _p1 or _p2):
//
//	region_p1  one goroutine: trace.StartRegion(ctx, "bench").End()
//	region_p2  two goroutines in parallel, each doing half the ops
//	log_p1     one goroutine: trace.Log(ctx, "bench", "message")
//	log_p2     two goroutines in parallel
//	block_p1   two goroutines ping-pong a token over unbuffered channels;
//	           each op is one round trip = two block/unblock pairs
//	           (the receiver parks, the sender readies it, it runs again)
//	block_p2   the same with GOMAXPROCS=2 (wakeups cross procs, so procs
//	           start and stop too: more events per op, all of them real
//	           tracer work)
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/trace"
	"sort"
	"strings"
	"sync"
	"time"
)

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

type bcase struct {
	name   string
	procs  int
	gs     int // goroutines doing ops in parallel (for CPU time)
	ops    int
	run    func(ops int)
}

func regionLoop(ops, gs int) {
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := 0; g < gs; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < ops/gs; i++ {
				trace.StartRegion(ctx, "bench").End()
			}
		}()
	}
	wg.Wait()
}

func logLoop(ops, gs int) {
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := 0; g < gs; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < ops/gs; i++ {
				trace.Log(ctx, "bench", "message")
			}
		}()
	}
	wg.Wait()
}

func pingPong(ops int) {
	ping, pong := make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	go func() {
		for range ping {
			pong <- struct{}{}
		}
		close(done)
	}()
	for i := 0; i < ops; i++ {
		ping <- struct{}{}
		<-pong
	}
	close(ping)
	<-done
}

func timeRun(c bcase, traced bool, w io.Writer) time.Duration {
	runtime.GC()
	if traced {
		if err := trace.Start(w); err != nil {
			panic(err)
		}
	}
	t0 := time.Now()
	c.run(c.ops)
	d := time.Since(t0)
	if traced {
		trace.Stop()
	}
	return d
}

var goTool string

// countEvents writes a trace of ops operations to a file and counts the
// events Go's own parser reports in it.
func countEvents(c bcase, ops int, dir string) (int, error) {
	path := filepath.Join(dir, fmt.Sprintf("%s-%d.trace", c.name, ops))
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	if err := trace.Start(f); err != nil {
		return 0, err
	}
	c.run(ops)
	trace.Stop()
	f.Close()
	cmd := exec.Command(goTool, "tool", "trace", "-d=1", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	n := 0
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "M=") {
			n++
		}
	}
	if err := cmd.Wait(); err != nil {
		return 0, fmt.Errorf("%s: %v: %s", path, err, stderr.String())
	}
	return n, nil
}

func main() {
	reps := flag.Int("reps", 5, "timed runs per case and mode (best is kept)")
	scale := flag.Float64("scale", 1, "multiply the operation counts")
	only := flag.String("case", "", "run only cases whose name contains this")
	countN := flag.Int("count-ops", 2000, "ops of the short runs that count events per op")
	flag.Parse()
	goTool = filepath.Join(runtime.GOROOT(), "bin", "go")

	n := func(x int) int { return int(float64(x) * *scale) }
	cases := []bcase{
		{"region_p1", 1, 1, n(400000), func(o int) { regionLoop(o, 1) }},
		{"region_p2", 2, 2, n(400000), func(o int) { regionLoop(o, 2) }},
		{"log_p1", 1, 1, n(400000), func(o int) { logLoop(o, 1) }},
		{"log_p2", 2, 2, n(400000), func(o int) { logLoop(o, 2) }},
		{"block_p1", 1, 1, n(100000), pingPong},
		{"block_p2", 2, 1, n(50000), pingPong},
	}
	dir, err := os.MkdirTemp("", "tracerbench")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	fmt.Printf("# %s GOARCH=%s NumCPU=%d reps=%d\n", runtime.Version(), runtime.GOARCH, runtime.NumCPU(), *reps)
	fmt.Printf("# %-10s %9s %9s %7s %10s %10s %10s %9s\n", "case", "ops", "events", "ev/op",
		"off_ns/op", "on_ns/op", "trace_B", "B/op")
	var lines []string
	for _, c := range cases {
		if *only != "" && !strings.Contains(c.name, *only) {
			continue
		}
		runtime.GOMAXPROCS(c.procs)
		e1, err1 := countEvents(c, *countN, dir)
		e2, err2 := countEvents(c, 2**countN, dir)
		if err1 != nil || err2 != nil {
			fmt.Fprintf(os.Stderr, "tracerbench: counting events: %v %v\n", err1, err2)
			os.Exit(1)
		}
		evPerOp := float64(e2-e1) / float64(*countN)
		var off, on []time.Duration
		var size int64
		for r := 0; r < *reps; r++ {
			off = append(off, timeRun(c, false, nil))
			cw := &countWriter{}
			on = append(on, timeRun(c, true, cw))
			size = cw.n
		}
		sort.Slice(off, func(i, j int) bool { return off[i] < off[j] })
		sort.Slice(on, func(i, j int) bool { return on[i] < on[j] })
		events := evPerOp * float64(c.ops)
		added := float64(on[0]-off[0]) * float64(c.gs)
		fmt.Printf("# %-10s %9d %9.0f %7.2f %10.1f %10.1f %10d %9.2f\n", c.name, c.ops, events, evPerOp,
			float64(off[0])*float64(c.gs)/float64(c.ops), float64(on[0])*float64(c.gs)/float64(c.ops),
			size, float64(size)/float64(c.ops))
		lines = append(lines, fmt.Sprintf("go123 %s %.1f %.2f", c.name, added/events, float64(size)/events))
	}
	for _, l := range lines {
		fmt.Println(l)
	}
}
