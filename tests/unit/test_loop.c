/*
 * loop: loop_delay_split splits a callback's delay into the time the loop
 * waited or was kept from a CPU (the system's: it did not run the process)
 * and the rest (the loop's own: callbacks before it), and due timers run
 * between the callbacks of a batch.  kmemwatchd counts a sample late only on
 * the own part, so each side is pinned here with bounds that follow from the
 * order of events, not from how fast the machine is:
 *
 *   - a callback that spins 250 ms on a CPU makes the next timer, due 50 ms
 *     in, run with at least 150 ms of own delay (200 less what a host may
 *     steal), however little the loop waited; one that sleeps 250 ms in a
 *     system call gives at least 150 ms of other delay, not own;
 *   - a process stopped (SIGSTOP) while idle in its wait and continued 300 ms
 *     later has all of those 300 ms as waited time, although epoll_wait came
 *     back with EINTR in between and was entered again;
 *   - a callback preempted for 300 ms by a real-time process on its CPU has
 *     those 300 ms as queued time, not own;
 *   - a timer due while a batch of eight slow callbacks runs waits for one of
 *     them, not for all eight.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "../../daemon/loop.h"

#define MS 1000000ull

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void test_before_any_wait(void **state)
{
    struct loop_delay d;
    uint64_t now;

    (void)state;
    assert_int_equal(loop_init(), 0);
    /* no wait yet: nothing was waited or queued, all of it is own */
    now = loop_now_ns();
    loop_delay_split(now - 5 * MS, now, &d);
    assert_int_equal(d.waited, 0);
    assert_int_equal(d.queued, 0);
    assert_int_equal(d.own, 5 * MS);
    loop_delay_split(now, now, &d);
    assert_int_equal(d.waited + d.queued + d.own, 0);
    loop_fini();
}

/* ---- own delay: a callback that holds the loop ---- */

static struct {
    bool sleep;          /* hold by sleeping, not on a CPU */
    uint64_t due;        /* the second timer's deadline */
    uint64_t delay;      /* now - due, in the second timer */
    struct loop_delay d; /* loop_delay_split(due, now) there */
} busy;

/* 250 ms: on a CPU (the loop's own time), or asleep in a system call (other) */
static void busy_hold(void *arg)
{
    uint64_t t0 = loop_now_ns();

    (void)arg;
    if (busy.sleep)
        sleep_ms(250);
    else
        while (loop_now_ns() - t0 < 250 * MS)
            ;
}

static void busy_due(void *arg)
{
    uint64_t now = loop_now_ns();

    (void)arg;
    busy.delay = now - busy.due;
    loop_delay_split(busy.due, now, &busy.d);
    loop_quit();
}

static void busy_run(bool sleep)
{
    uint64_t t0;

    busy.sleep = sleep;
    assert_int_equal(loop_init(), 0);
    t0 = loop_now_ns();
    busy.due = t0 + 50 * MS;
    assert_true(loop_add_timer(t0, busy_hold, NULL) > 0);
    assert_true(loop_add_timer(busy.due, busy_due, NULL) > 0);
    assert_int_equal(loop_run(), 0);
    /*
     * busy_due's wait was entered after busy_hold returned, at t0 + 250 ms
     * or later: everything from its deadline to then is the loop's own.
     */
    assert_true(busy.delay >= 200 * MS);
    assert_int_equal(busy.d.waited + busy.d.queued + busy.d.own + busy.d.other, busy.delay);
    assert_true(busy.d.waited < 50 * MS);
    loop_fini();
}

static void test_busy_callback_is_own_delay(void **state)
{
    (void)state;
    busy_run(false);
    /* on a CPU: own (less what the host took, steal, which is other) */
    assert_true(busy.d.own >= 150 * MS);
}

static void test_blocked_callback_is_other(void **state)
{
    (void)state;
    if (access("/proc/thread-self/schedstat", R_OK) < 0)
        skip();
    busy_run(true);
    /* asleep in a system call: neither on a CPU nor queued */
    assert_true(busy.d.other >= 150 * MS);
    assert_true(busy.d.own < 50 * MS);
}

/* ---- system delay: stopped while idle in the wait ---- */

static struct {
    uint64_t stopped_at; /* when the child sent SIGSTOP (its CLOCK_MONOTONIC) */
    uint64_t delay;      /* now - stopped_at, in the callback */
    struct loop_delay d; /* loop_delay_split(stopped_at, now) there */
} stop;

static void stop_readable(int fd, unsigned events, void *arg)
{
    uint64_t now = loop_now_ns();

    (void)events;
    (void)arg;
    assert_int_equal(read(fd, &stop.stopped_at, sizeof(stop.stopped_at)), (ssize_t)sizeof(stop.stopped_at));
    stop.delay = now - stop.stopped_at;
    loop_delay_split(stop.stopped_at, now, &stop.d);
    loop_quit();
}

/* The state letter of /proc/PID/stat: after the last ')' (the name may hold one). */
static char proc_state(pid_t pid)
{
    char path[64], buf[512], *p;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY);
    if (fd < 0)
        return '?';
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return '?';
    buf[n] = 0;
    p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : '?';
}

/*
 * The child: once the parent sleeps (it is single-threaded and idle, so it
 * sleeps only in epoll_wait), stop it for 300 ms, continue it, then tell it
 * when the stop began.  The message comes after SIGCONT so that epoll_wait
 * first returns EINTR, with nothing ready, and the loop enters it again.
 */
static void stop_child(pid_t parent, int wfd)
{
    uint64_t t;
    int i;

    for (i = 0; i < 5000 && proc_state(parent) != 'S'; i++)
        sleep_ms(1);
    t = loop_now_ns();
    kill(parent, SIGSTOP);
    sleep_ms(300);
    kill(parent, SIGCONT);
    _exit(write(wfd, &t, sizeof(t)) == (ssize_t)sizeof(t) ? 0 : 1);
}

static void test_stop_while_waiting_is_waited(void **state)
{
    int p[2], status;
    pid_t child;

    (void)state;
    assert_int_equal(loop_init(), 0);
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    assert_int_equal(loop_add_fd(p[0], LOOP_READ, stop_readable, NULL), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0)
        stop_child(getppid(), p[1]);
    close(p[1]);
    assert_int_equal(loop_run(), 0);
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* the stop happened and held the loop */
    assert_true(stop.delay >= 300 * MS);
    assert_int_equal(stop.d.waited + stop.d.queued + stop.d.own + stop.d.other, stop.delay);
    /*
     * All of it was waiting: what remains is the loop's path from
     * epoll_wait's return to the callback (microseconds; 100 ms is the
     * daemon's threshold, so a preemption there would have to be that long
     * to fail this).
     */
    assert_true(stop.d.waited > stop.delay - 100 * MS);
    loop_del_fd(p[0]);
    close(p[0]);
    loop_fini();
}

/* ---- queued: preempted while running a callback ---- */

static struct {
    int go;              /* write end: tells the child the spin began */
    uint64_t due;        /* the second timer's deadline */
    uint64_t delay;
    struct loop_delay d;
} pre;

/* Spin on the clock for 100 ms of wall time; the child takes the CPU for 300 of them. */
static void pre_spin(void *arg)
{
    uint64_t t0 = loop_now_ns();
    char c = 1;

    (void)arg;
    assert_int_equal(write(pre.go, &c, 1), 1);
    while (loop_now_ns() - t0 < 100 * MS)
        ;
}

static void pre_due(void *arg)
{
    uint64_t now = loop_now_ns();

    (void)arg;
    pre.delay = now - pre.due;
    loop_delay_split(pre.due, now, &pre.d);
    loop_quit();
}

/*
 * The child, on the parent's CPU at a real-time priority: once the spin
 * begins it preempts the parent and holds that CPU for 300 ms.
 */
static void pre_child(int rfd)
{
    struct sched_param sp = { .sched_priority = 1 };
    uint64_t t0;
    char c;

    if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0)
        _exit(2);
    if (read(rfd, &c, 1) != 1)
        _exit(1);
    t0 = loop_now_ns();
    while (loop_now_ns() - t0 < 300 * MS)
        ;
    _exit(0);
}

static void test_preempted_is_queued(void **state)
{
    cpu_set_t one, all;
    int p[2], status, cpu = sched_getcpu();
    pid_t child;
    uint64_t t0;

    (void)state;
    if (access("/proc/thread-self/schedstat", R_OK) < 0)
        skip();
    assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0)
        pre_child(p[0]);
    close(p[0]);
    pre.go = p[1];
    assert_int_equal(loop_init(), 0);
    t0 = loop_now_ns() + 20 * MS;
    pre.due = t0 + 50 * MS;
    assert_true(loop_add_timer(t0, pre_spin, NULL) > 0);
    assert_true(loop_add_timer(pre.due, pre_due, NULL) > 0);
    assert_int_equal(loop_run(), 0);
    loop_fini();
    close(p[1]);
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
    /* no real-time priority here (not root, no CAP_SYS_NICE): nothing to measure */
    if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
        skip();
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /*
     * The child held the CPU from the spin's start for 300 ms, past the
     * timer's deadline 50 ms in: 250 ms of delay, all of it queued.
     */
    assert_true(pre.delay >= 200 * MS);
    assert_int_equal(pre.d.waited + pre.d.queued + pre.d.own + pre.d.other, pre.delay);
    assert_true(pre.d.queued >= 200 * MS);
    assert_true(pre.d.own < 100 * MS);
}

/* ---- a timer between the callbacks of one batch ---- */

#define BATCH 8

static struct {
    int ran;             /* callbacks run so far */
    int ran_at_timer;    /* ... when the timer ran */
    uint64_t due, delay;
} batch;

static void batch_readable(int fd, unsigned events, void *arg)
{
    char c;

    (void)events;
    (void)arg;
    assert_int_equal(read(fd, &c, 1), 1);
    sleep_ms(40);
    if (++batch.ran == BATCH)
        loop_quit();
}

static void batch_due(void *arg)
{
    (void)arg;
    batch.delay = loop_now_ns() - batch.due;
    batch.ran_at_timer = batch.ran;
}

static void test_timer_between_callbacks(void **state)
{
    int p[BATCH][2];

    (void)state;
    assert_int_equal(loop_init(), 0);
    /* eight fds readable before the loop starts: one batch of eight 40 ms callbacks */
    for (int i = 0; i < BATCH; i++) {
        assert_int_equal(pipe2(p[i], O_CLOEXEC), 0);
        assert_int_equal(write(p[i][1], "x", 1), 1);
        assert_int_equal(loop_add_fd(p[i][0], LOOP_READ, batch_readable, NULL), 0);
    }
    batch.due = loop_now_ns() + 10 * MS;
    batch.ran_at_timer = -1;
    assert_true(loop_add_timer(batch.due, batch_due, NULL) > 0);
    assert_int_equal(loop_run(), 0);
    /*
     * Due 10 ms in, it ran after the first callback (or before any, had the
     * loop reached its wait that late), not after all eight.
     */
    assert_true(batch.ran_at_timer >= 0 && batch.ran_at_timer <= 1);
    for (int i = 0; i < BATCH; i++) {
        loop_del_fd(p[i][0]);
        close(p[i][0]);
        close(p[i][1]);
    }
    loop_fini();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_before_any_wait),
        cmocka_unit_test(test_busy_callback_is_own_delay),
        cmocka_unit_test(test_blocked_callback_is_other),
        cmocka_unit_test(test_stop_while_waiting_is_waited),
        cmocka_unit_test(test_preempted_is_queued),
        cmocka_unit_test(test_timer_between_callbacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
