/*
 * loop: the daemon's one wait point.  epoll over file descriptors plus a
 * timer queue kept on one timerfd armed for the earliest deadline, and
 * signals delivered as events through a signalfd (chrony's sched module, in
 * epoll form).
 *
 * Deadlines are absolute CLOCK_MONOTONIC nanoseconds: a periodic job
 * re-arms itself at deadline + interval, never at now + interval, so the
 * schedule does not drift however long each run takes.
 */
#ifndef KMW_LOOP_H
#define KMW_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#define LOOP_READ  0x1u
#define LOOP_WRITE 0x2u

typedef void (*loop_fd_fn)(int fd, unsigned events, void *arg);
typedef void (*loop_timer_fn)(void *arg);
typedef void (*loop_signal_fn)(int signo, void *arg);

int loop_init(void);
void loop_fini(void);

/* Watch fd for LOOP_READ/LOOP_WRITE (level-triggered).  0 or -errno. */
int loop_add_fd(int fd, unsigned events, loop_fd_fn fn, void *arg);
int loop_mod_fd(int fd, unsigned events);
void loop_del_fd(int fd);

/* One-shot timer at absolute monotonic time at_ns.  Returns an id > 0 or -errno. */
long loop_add_timer(uint64_t at_ns, loop_timer_fn fn, void *arg);
void loop_del_timer(long id);

/* Block signo and deliver it through the loop. */
int loop_add_signal(int signo, loop_signal_fn fn, void *arg);

/*
 * Run until loop_quit().  Timers whose deadline has passed run after each
 * callback of a batch, so a timer waits for at most one fd callback (or
 * timer), never for the rest of the batch or another wait.
 */
int loop_run(void);
void loop_quit(void);

/*
 * Where a callback's delay went: for a deadline t and now = loop_now_ns() in
 * the callback, now - t = waited + queued + own + other.
 *
 *   waited  the loop was blocked in the wait that the running callbacks came
 *           out of although t had passed: the system did not wake it in time,
 *           or it was stopped (a wait cut short by EINTR, as a stop and
 *           continue does, and entered again counts as one, from its first
 *           entry);
 *   queued  it was runnable but kept from a CPU since that wait returned (the
 *           thread's run-queue time, /proc/thread-self/schedstat; 0 where the
 *           kernel does not keep it): a host or another process took the CPU;
 *   own     it ran callbacks on a CPU (the thread's CPU time since that wait
 *           returned, from the same file);
 *   other   the rest: blocked in a system call of a callback, or the CPU
 *           taken by the hypervisor (steal time is neither on a CPU nor on a
 *           run queue to the guest's scheduler).
 *
 * The counters are read once per wait, not per callback: when t passed in the
 * middle of a batch, run-queue and CPU time of that batch before t are counted
 * as queued and own too.  (Due timers run after every callback, so t passed in
 * the wait or in the batch the timer runs in.)  Where the kernel keeps no
 * schedstat, and before loop_run's first wait, everything but waited is own.
 */
struct loop_delay {
    uint64_t waited, queued, own, other;
};
void loop_delay_split(uint64_t t, uint64_t now, struct loop_delay *d);

uint64_t loop_now_ns(void);      /* CLOCK_MONOTONIC */
uint64_t loop_wall_ns(void);     /* CLOCK_REALTIME */

#endif
