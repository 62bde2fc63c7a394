// Fixture: unbuffered and buffered channel send/receive with blocking on
// both sides, and channel close.
// Usage: channels TRACEFILE
package main

import (
	"os"
	"runtime/trace"
	"sync"
)

func unbuffered(n int) int {
	ch := make(chan int)
	done := make(chan int)
	go func() {
		sum := 0
		for v := range ch {
			sum += v
		}
		done <- sum
	}()
	for i := 0; i < n; i++ {
		ch <- i
	}
	close(ch)
	return <-done
}

func buffered(n, capacity int) int {
	ch := make(chan int, capacity)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for c := 0; c < 2; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := 0
			for v := range ch {
				s += v
			}
			mu.Lock()
			total += s
			mu.Unlock()
		}()
	}
	for i := 0; i < n; i++ {
		ch <- i
	}
	close(ch)
	wg.Wait()
	return total
}

// pingpong makes two goroutines hand a token back and forth, so each side
// blocks on receive in turn.
func pingpong(n int) {
	a, b := make(chan struct{}), make(chan struct{})
	go func() {
		for range a {
			b <- struct{}{}
		}
		close(b)
	}()
	for i := 0; i < n; i++ {
		a <- struct{}{}
		<-b
	}
	close(a)
	<-b
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
	_ = unbuffered(200)
	_ = buffered(400, 4)
	pingpong(200)
	trace.Stop()
}
