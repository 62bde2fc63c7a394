// A Rust program (std only) for tests/unwind/demangle.sh: threads contend
// on a std::sync::Mutex, whose slow path (futex waits through syscall())
// runs in Rust's standard library, named from its symbol table (v0 and
// legacy mangled names).  Each thread sleeps while holding the lock, so
// the trace holds sleeps (whatever the scheduling) whose stacks go
// through hold_lock and std's sleep.
use std::sync::{Arc, Mutex};
use std::thread;

#[inline(never)]
fn hold_lock(m: &Mutex<u64>, rounds: u32) {
    for i in 0..rounds {
        let mut g = m.lock().unwrap();
        for _ in 0..20000 {
            *g = std::hint::black_box(*g + 1);
        }
        if i % 50 == 0 {
            thread::sleep(std::time::Duration::from_micros(100));
        }
    }
}

fn main() {
    let m = Arc::new(Mutex::new(0u64));
    let ts: Vec<_> = (0..4)
        .map(|_| {
            let m = Arc::clone(&m);
            thread::spawn(move || hold_lock(&m, 200))
        })
        .collect();
    for t in ts {
        t.join().unwrap();
    }
    std::process::exit(if *m.lock().unwrap() == 4 * 200 * 20000 { 0 } else { 1 });
}
