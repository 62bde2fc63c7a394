// Fixture: TCP echo server and clients on 127.0.0.1 (network blocking in
// the netpoller). Loopback only; bounded number of connections and
// messages; every socket has a deadline.
// Usage: net TRACEFILE
package main

import (
	"bufio"
	"io"
	"net"
	"os"
	"runtime/trace"
	"sync"
	"time"
)

func serve(ln net.Listener, conns int, wg *sync.WaitGroup) {
	defer wg.Done()
	for i := 0; i < conns; i++ {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func(c net.Conn) {
			defer wg.Done()
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.Copy(c, c)
		}(c)
	}
}

func client(addr string, msgs int) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	for i := 0; i < msgs; i++ {
		if _, err := c.Write([]byte("hello, echo\n")); err != nil {
			return err
		}
		if _, err := r.ReadString('\n'); err != nil {
			return err
		}
	}
	return nil
}

func main() {
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	defer f.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	if err := trace.Start(f); err != nil {
		panic(err)
	}
	const clients = 3
	var wg sync.WaitGroup
	wg.Add(1)
	go serve(ln, clients, &wg)
	var cwg sync.WaitGroup
	for i := 0; i < clients; i++ {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			if err := client(ln.Addr().String(), 30); err != nil {
				panic(err)
			}
		}()
	}
	cwg.Wait()
	ln.Close()
	wg.Wait()
	trace.Stop()
}
