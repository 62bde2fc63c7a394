// A C++ program built without -g (tests/unwind/demangle.sh): its frames
// are named from the symbol table, where C++ names are mangled.  Threads
// contend on a std::mutex; each sleeps while holding it, so the trace
// holds sleeps (whatever the scheduling) whose stacks go through
// hold_lock, and the main thread's waits in std::thread::join().
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace ctdemo {
std::mutex lock;
long counter;

__attribute__((noinline)) void hold_lock(int rounds)
{
    for (int i = 0; i < rounds; i++) {
        std::lock_guard<std::mutex> g(lock);
        for (volatile int k = 0; k < 20000; k++)
            counter++;
        if (i % 50 == 0)
            std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
}
} // namespace ctdemo

int main()
{
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; i++)
        ts.emplace_back(ctdemo::hold_lock, 200);
    for (auto &t : ts)
        t.join();
    return ctdemo::counter == 4L * 200 * 20000 ? 0 : 1;
}
