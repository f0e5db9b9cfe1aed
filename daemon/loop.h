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

/* Run until loop_quit(). */
int loop_run(void);
void loop_quit(void);

/*
 * How much of the time since t the loop spent blocked in the wait that the
 * running callbacks came out of: the part after t of the interval
 * [entered, returned] of that epoll_wait, both taken with loop_now_ns() (a
 * wait cut short by EINTR, as a stop and continue does, and entered again
 * counts as one, from its first entry).  0 when t is at or after the return,
 * and before loop_run's first wait.
 *
 * A timer callback splits its delay with it: for its deadline t and now =
 * loop_now_ns() in the callback, loop_slept_since_ns(t) <= now - t is the
 * part in which the loop was blocked although the timerfd was due, so the
 * system did not run it (woken late, or stopped); the rest is the loop's
 * own: callbacks that ran after the deadline, before the wait was entered
 * or since it returned.  Time the process was preempted while running
 * callbacks cannot be told apart from them and counts as its own.
 */
uint64_t loop_slept_since_ns(uint64_t t);

uint64_t loop_now_ns(void);      /* CLOCK_MONOTONIC */
uint64_t loop_wall_ns(void);     /* CLOCK_REALTIME */

#endif
