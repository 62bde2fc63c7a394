// Fixture: select over several channels, with timers and a default case.
// Usage: select TRACEFILE
package main

import (
	"os"
	"runtime/trace"
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
	a := make(chan int)
	b := make(chan int)
	quit := make(chan struct{})
	go func() {
		for i := 0; i < 100; i++ {
			a <- i
		}
	}()
	go func() {
		for i := 0; i < 100; i++ {
			b <- i
		}
	}()
	go func() {
		time.Sleep(20 * time.Millisecond)
		close(quit)
	}()
	got, timeouts, idle := 0, 0, 0
	timer := time.NewTimer(time.Millisecond)
loop:
	for {
		select {
		case <-a:
			got++
		case <-b:
			got++
		case <-timer.C:
			timeouts++
			timer.Reset(time.Millisecond)
		case <-quit:
			break loop
		}
	}
	// A select with a default case never blocks.
	for i := 0; i < 50; i++ {
		select {
		case <-a:
			got++
		default:
			idle++
		}
	}
	// select with no cases ready blocks until one is.
	c := make(chan int, 1)
	go func() { time.Sleep(time.Millisecond); c <- 1 }()
	select {
	case <-c:
	case <-time.After(time.Second):
	}
	_, _, _ = got, timeouts, idle
	trace.Stop()
}
