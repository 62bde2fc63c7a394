/*
 * cpp_workers.cpp - ctrace.hpp in a multi-threaded C++ program: requests
 * (tasks with a request id) fan out jobs to a pool of worker threads, each
 * worker adopting the task of the job it runs.
 *
 * main handles NREQUESTS requests, one after the other.  Each is a
 * ctrace::TaskScope "request" carrying request-id=req-N (a log on the
 * task's page); inside it a region "dispatch" hands NWORKERS jobs to the
 * workers, one job to each (worker i has a queue of its own, so every
 * worker runs exactly one job per request), then main waits for them
 * (a std::condition_variable) and logs "done".  A worker ("worker-i")
 * runs each job inside ctrace::AdoptTask (the job's task becomes its
 * current task), in a region "job" (CTRACE_SCOPE) with a nested region
 * "step" (a ctrace::Region ended early with end()), and logs one "job"
 * log per job (log_fmt where std::format is there, logf otherwise).  Once,
 * each worker logs "ids" with its goroutine id (correlation).
 *
 * So the trace holds: NREQUESTS "request" tasks, each with one
 * "request-id" log; NWORKERS * NREQUESTS "job" and "step" regions, all in
 * "request" tasks, NREQUESTS on each of the NWORKERS worker goroutines;
 * as many "job" logs, NREQUESTS per worker; NREQUESTS "dispatch" regions
 * and "done" logs on main.  tests/integration (check_example.sh) checks
 * these counts.
 *
 *   cpp_workers [OUT.trace]     (default: $CTRACE_OUT, else cpp_workers.trace)
 */
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ctrace.hpp"

namespace {

constexpr int NREQUESTS = 8;
constexpr int NWORKERS = 4;

struct Job {
    ctrace::task_handle task; // the request this job works for
    int request;
    int part;
};

// Counts the jobs of one request still running.
struct Pending {
    std::mutex mu;
    std::condition_variable cv;
    int left = 0;
};

class Worker {
public:
    Worker(int id, Pending &pending) : id_(id), pending_(pending), thread_([this] { run(); }) {}
    ~Worker()
    {
        push(Job{0, -1, -1}); // the stop job
        thread_.join();
    }

    void push(Job j)
    {
        {
            std::lock_guard<std::mutex> lock(mu_);
            jobs_.push_back(j);
        }
        cv_.notify_one();
    }

private:
    void run()
    {
        ctrace::thread_name("worker-" + std::to_string(id_));
        ctrace::logf("ids", "worker %d is goroutine %llu", id_,
                     static_cast<unsigned long long>(ctrace::goroutine_id()));
        for (;;) {
            Job j;
            {
                std::unique_lock<std::mutex> lock(mu_);
                cv_.wait(lock, [this] { return !jobs_.empty(); });
                j = jobs_.front();
                jobs_.pop_front();
            }
            if (j.request < 0)
                return;
            work(j);
            std::lock_guard<std::mutex> lock(pending_.mu);
            if (--pending_.left == 0)
                pending_.cv.notify_one();
        }
    }

    void work(const Job &j)
    {
        ctrace::AdoptTask adopt(j.task); // regions and logs below are in the request
        CTRACE_SCOPE("job");
        ctrace::Region step("step");
        volatile long sum = 0;
        for (long i = 0; i < 20000; i++)
            sum = sum + i % (j.part + 3);
        step.end();
#if defined(__cpp_lib_format)
        ctrace::log_fmt("job", "request {} part {} on worker {}", j.request, j.part, id_);
#else
        ctrace::logf("job", "request %d part %d on worker %d", j.request, j.part, id_);
#endif
    }

    int id_;
    Pending &pending_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Job> jobs_;
    std::thread thread_; // last: starts once the rest is built
};

void handle_request(int n, std::vector<Worker *> &workers, Pending &pending)
{
    std::string id = "req-" + std::to_string(n);
    ctrace::TaskScope request("request", {{"request-id", id}});
    {
        CTRACE_SCOPE("dispatch");
        std::lock_guard<std::mutex> lock(pending.mu);
        pending.left = NWORKERS;
        for (int i = 0; i < NWORKERS; i++)
            workers[i]->push(Job{request.handle(), n, i});
    }
    std::unique_lock<std::mutex> lock(pending.mu);
    pending.cv.wait(lock, [&] { return pending.left == 0; });
    ctrace::log("done", id);
}

} // namespace

int main(int argc, char **argv)
{
    const char *out = argc > 1 ? argv[1] : std::getenv("CTRACE_OUT");
    if (out == nullptr || *out == '\0')
        out = "cpp_workers.trace";
    int err = ctrace_start_file(out);
    if (err != CTRACE_OK) {
        std::fprintf(stderr, "cpp_workers: cannot trace to %s: %s (%s)\n", out,
                     ctrace_strerror(err), std::strerror(errno));
        return 1;
    }
    ctrace::thread_name("main");
    {
        Pending pending;
        std::vector<Worker *> workers;
        for (int i = 0; i < NWORKERS; i++)
            workers.push_back(new Worker(i, pending));
        for (int n = 0; n < NREQUESTS; n++)
            handle_request(n, workers, pending);
        for (Worker *w : workers)
            delete w;
    }
    err = ctrace_stop();
    if (err != CTRACE_OK) {
        std::fprintf(stderr, "cpp_workers: ctrace_stop: %s\n", ctrace_strerror(err));
        return 1;
    }
    std::printf("cpp_workers: %d requests x %d workers, trace in %s\n", NREQUESTS, NWORKERS,
                out);
    return 0;
}
