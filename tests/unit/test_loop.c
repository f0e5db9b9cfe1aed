/*
 * loop: loop_slept_since_ns splits a callback's delay into the time the loop
 * waited (the system's: it did not run the process) and the rest (the
 * loop's own: callbacks before it).  kmemwatchd counts a sample late only on
 * the own part, so both sides are pinned here with bounds that follow from
 * the order of events, not from how fast the machine is:
 *
 *   - a callback that sleeps 250 ms makes the next timer, due 50 ms in, run
 *     with at least 200 ms of own delay, however little the loop waited;
 *   - a process stopped (SIGSTOP) while idle in its wait and continued 300 ms
 *     later has all of those 300 ms as waited time, although epoll_wait came
 *     back with EINTR in between and was entered again.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
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
    (void)state;
    assert_int_equal(loop_init(), 0);
    /* no wait yet: nothing was slept, whatever the time asked about */
    assert_int_equal(loop_slept_since_ns(0), 0);
    assert_int_equal(loop_slept_since_ns(loop_now_ns()), 0);
    loop_fini();
}

/* ---- own delay: a callback that holds the loop ---- */

static struct {
    uint64_t due;        /* the second timer's deadline */
    uint64_t delay;      /* now - due, in the second timer */
    uint64_t slept;      /* loop_slept_since_ns(due) there */
    uint64_t slept_now;  /* loop_slept_since_ns(now) there */
} busy;

static void busy_hold(void *arg)
{
    (void)arg;
    sleep_ms(250);       /* sleeping in a callback is the loop's own time */
}

static void busy_due(void *arg)
{
    uint64_t now = loop_now_ns();

    (void)arg;
    busy.delay = now - busy.due;
    busy.slept = loop_slept_since_ns(busy.due);
    busy.slept_now = loop_slept_since_ns(now);
    loop_quit();
}

static void test_busy_callback_is_own_delay(void **state)
{
    uint64_t t0;

    (void)state;
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
    assert_true(busy.slept <= busy.delay);
    assert_true(busy.delay - busy.slept >= 200 * MS);
    assert_int_equal(busy.slept_now, 0);
    loop_fini();
}

/* ---- system delay: stopped while idle in the wait ---- */

static struct {
    uint64_t stopped_at; /* when the child sent SIGSTOP (its CLOCK_MONOTONIC) */
    uint64_t delay;      /* now - stopped_at, in the callback */
    uint64_t slept;      /* loop_slept_since_ns(stopped_at) there */
} stop;

static void stop_readable(int fd, unsigned events, void *arg)
{
    uint64_t now = loop_now_ns();

    (void)events;
    (void)arg;
    assert_int_equal(read(fd, &stop.stopped_at, sizeof(stop.stopped_at)), (ssize_t)sizeof(stop.stopped_at));
    stop.delay = now - stop.stopped_at;
    stop.slept = loop_slept_since_ns(stop.stopped_at);
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

static void test_stop_while_waiting_is_slept(void **state)
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
    assert_true(stop.slept <= stop.delay);
    /*
     * All of it was waiting: what remains is the loop's path from
     * epoll_wait's return to the callback (microseconds; 100 ms is the
     * daemon's threshold, so a preemption there would have to be that long
     * to fail this).
     */
    assert_true(stop.delay - stop.slept < 100 * MS);
    loop_del_fd(p[0]);
    close(p[0]);
    loop_fini();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_before_any_wait),
        cmocka_unit_test(test_busy_callback_is_own_delay),
        cmocka_unit_test(test_stop_while_waiting_is_slept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
