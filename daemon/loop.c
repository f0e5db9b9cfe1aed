#include "loop.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/*
 * fds are registered with a pointer to one of these, found again by fd in
 * by_fd[].  A watch removed while its event batch is being dispatched is
 * parked on the dead list (fn NULL) and freed after the batch.
 */
struct watch {
    int fd;
    loop_fd_fn fn;
    void *arg;
    struct watch *next_dead;
};

struct timer {
    long id;
    uint64_t at;
    loop_timer_fn fn;
    void *arg;
};

#define MAX_SIGNALS 8

static struct {
    int epfd;
    int tfd;
    int sfd;
    bool quit;
    struct watch **by_fd;
    size_t nby_fd;
    struct watch *dead;
    struct timer *timers;   /* binary min-heap on at */
    size_t ntimers, ctimers;
    long next_id;
    sigset_t sigs;
    struct {
        int signo;
        loop_signal_fn fn;
        void *arg;
    } sig[MAX_SIGNALS];
    int nsig;
    /*
     * The last wait: monotonic times loop_run entered epoll_wait and got
     * events back (loop_delay_split).  0 and 0 before the first.
     */
    uint64_t wait_enter, wait_leave;
    /*
     * The loop thread's schedstat (the process's own, not under --proc-root)
     * and its time on a CPU and on a run queue when the last wait returned
     * (loop_delay_split).  rqfd -1 where the kernel does not keep it (no
     * CONFIG_SCHED_INFO).
     */
    int rqfd;
    uint64_t cpu_leave, rq_leave;
} L = { .epfd = -1, .tfd = -1, .sfd = -1, .rqfd = -1 };

/* the timerfd and signalfd use these markers in place of a struct watch */
static char tfd_marker, sfd_marker;

uint64_t loop_now_ns(void)
{
    return util_mono_ns();
}

uint64_t loop_wall_ns(void)
{
    return util_wall_ns();
}

int loop_init(void)
{
    struct epoll_event ev = { .events = EPOLLIN };

    memset(&L, 0, sizeof(L));
    L.sfd = -1;
    L.rqfd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    sigemptyset(&L.sigs);
    L.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (L.epfd < 0)
        return -errno;
    L.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (L.tfd < 0)
        return -errno;
    ev.data.ptr = &tfd_marker;
    if (epoll_ctl(L.epfd, EPOLL_CTL_ADD, L.tfd, &ev) < 0)
        return -errno;
    return 0;
}

static void free_dead(void)
{
    while (L.dead) {
        struct watch *w = L.dead;
        L.dead = w->next_dead;
        free(w);
    }
}

void loop_fini(void)
{
    for (size_t i = 0; i < L.nby_fd; i++)
        free(L.by_fd[i]);
    free(L.by_fd);
    free_dead();
    free(L.timers);
    if (L.sfd >= 0)
        close(L.sfd);
    if (L.rqfd >= 0)
        close(L.rqfd);
    if (L.tfd >= 0)
        close(L.tfd);
    if (L.epfd >= 0)
        close(L.epfd);
    L.epfd = L.tfd = L.sfd = L.rqfd = -1;
}

static uint32_t to_epoll(unsigned events)
{
    return ((events & LOOP_READ) ? EPOLLIN : 0) | ((events & LOOP_WRITE) ? EPOLLOUT : 0);
}

static struct watch *watch_find(int fd)
{
    return fd >= 0 && (size_t)fd < L.nby_fd ? L.by_fd[fd] : NULL;
}

int loop_add_fd(int fd, unsigned events, loop_fd_fn fn, void *arg)
{
    struct watch *w;
    struct epoll_event ev;

    if (fd < 0 || watch_find(fd))
        return -EEXIST;
    if ((size_t)fd >= L.nby_fd) {
        size_t n = (size_t)fd + 64;
        struct watch **nb = realloc(L.by_fd, n * sizeof(*nb));
        if (!nb)
            return -ENOMEM;
        memset(nb + L.nby_fd, 0, (n - L.nby_fd) * sizeof(*nb));
        L.by_fd = nb;
        L.nby_fd = n;
    }
    w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->fd = fd;
    w->fn = fn;
    w->arg = arg;
    ev.events = to_epoll(events);
    ev.data.ptr = w;
    if (epoll_ctl(L.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int e = errno;
        free(w);
        return -e;
    }
    L.by_fd[fd] = w;
    return 0;
}

int loop_mod_fd(int fd, unsigned events)
{
    struct watch *w = watch_find(fd);
    struct epoll_event ev;

    if (!w)
        return -ENOENT;
    ev.events = to_epoll(events);
    ev.data.ptr = w;
    return epoll_ctl(L.epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void loop_del_fd(int fd)
{
    struct watch *w = watch_find(fd);

    if (!w)
        return;
    epoll_ctl(L.epfd, EPOLL_CTL_DEL, fd, NULL);
    L.by_fd[fd] = NULL;
    /* an event for w may still be in this round's batch: park it until the batch ends */
    w->fn = NULL;
    w->next_dead = L.dead;
    L.dead = w;
}

static void heap_swap(size_t a, size_t b)
{
    struct timer t = L.timers[a];
    L.timers[a] = L.timers[b];
    L.timers[b] = t;
}

static void heap_up(size_t i)
{
    while (i > 0 && L.timers[(i - 1) / 2].at > L.timers[i].at) {
        heap_swap(i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < L.ntimers && L.timers[l].at < L.timers[m].at)
            m = l;
        if (r < L.ntimers && L.timers[r].at < L.timers[m].at)
            m = r;
        if (m == i)
            return;
        heap_swap(i, m);
        i = m;
    }
}

static void heap_remove(size_t i)
{
    L.ntimers--;
    if (i == L.ntimers)
        return;
    L.timers[i] = L.timers[L.ntimers];
    heap_up(i);
    heap_down(i);
}

static void arm(void)
{
    struct itimerspec its;

    memset(&its, 0, sizeof(its));
    if (L.ntimers) {
        uint64_t at = L.timers[0].at ? L.timers[0].at : 1;
        its.it_value.tv_sec = (time_t)(at / 1000000000u);
        its.it_value.tv_nsec = (long)(at % 1000000000u);
    }
    timerfd_settime(L.tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

long loop_add_timer(uint64_t at_ns, loop_timer_fn fn, void *arg)
{
    if (L.ntimers == L.ctimers) {
        size_t n = L.ctimers ? L.ctimers * 2 : 16;
        struct timer *t = realloc(L.timers, n * sizeof(*t));
        if (!t)
            return -ENOMEM;
        L.timers = t;
        L.ctimers = n;
    }
    L.timers[L.ntimers] = (struct timer){ ++L.next_id, at_ns, fn, arg };
    heap_up(L.ntimers++);
    arm();
    return L.next_id;
}

void loop_del_timer(long id)
{
    for (size_t i = 0; i < L.ntimers; i++)
        if (L.timers[i].id == id) {
            heap_remove(i);
            arm();
            return;
        }
}

int loop_add_signal(int signo, loop_signal_fn fn, void *arg)
{
    struct epoll_event ev = { .events = EPOLLIN };
    int fd;

    if (L.nsig == MAX_SIGNALS)
        return -ENOSPC;
    sigaddset(&L.sigs, signo);
    if (sigprocmask(SIG_BLOCK, &L.sigs, NULL) < 0)
        return -errno;
    fd = signalfd(L.sfd, &L.sigs, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (L.sfd < 0) {
        L.sfd = fd;
        ev.data.ptr = &sfd_marker;
        if (epoll_ctl(L.epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
            return -errno;
    }
    L.sig[L.nsig].signo = signo;
    L.sig[L.nsig].fn = fn;
    L.sig[L.nsig].arg = arg;
    L.nsig++;
    return 0;
}

static void run_timers(void)
{
    uint64_t expirations, now = loop_now_ns();

    while (read(L.tfd, &expirations, sizeof(expirations)) > 0)
        ;
    while (L.ntimers && L.timers[0].at <= now) {
        struct timer t = L.timers[0];
        heap_remove(0);
        t.fn(t.arg);
    }
    arm();
}

static void run_signals(void)
{
    struct signalfd_siginfo si;

    while (read(L.sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        for (int i = 0; i < L.nsig; i++)
            if ((int)si.ssi_signo == L.sig[i].signo)
                L.sig[i].fn((int)si.ssi_signo, L.sig[i].arg);
}

/* The loop thread's ns on a CPU and on a run queue, in all.  false when unknown. */
static bool sched_ns(uint64_t *oncpu, uint64_t *queued)
{
    unsigned long long c, q;
    char buf[96];
    ssize_t n;

    if (L.rqfd < 0)
        return false;
    n = pread(L.rqfd, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return false;
    buf[n] = 0;
    /* "<ns on a CPU> <ns waiting on a run queue> <timeslices>" */
    if (sscanf(buf, "%llu %llu", &c, &q) != 2)
        return false;
    *oncpu = c;
    *queued = q;
    return true;
}

void loop_delay_split(uint64_t t, uint64_t now, struct loop_delay *d)
{
    uint64_t total = now > t ? now - t : 0, from = t > L.wait_enter ? t : L.wait_enter, rest, c, q;

    memset(d, 0, sizeof(*d));
    d->waited = L.wait_leave > from ? L.wait_leave - from : 0;
    if (d->waited > total)
        d->waited = total;
    rest = total - d->waited;
    if (!L.wait_leave || !sched_ns(&c, &q)) {
        d->own = rest;
        return;
    }
    d->queued = q > L.rq_leave ? q - L.rq_leave : 0;
    if (d->queued > rest)
        d->queued = rest;
    rest -= d->queued;
    d->own = c > L.cpu_leave ? c - L.cpu_leave : 0;
    if (d->own > rest)
        d->own = rest;
    d->other = rest - d->own;
}

static bool timer_due(void)
{
    return L.ntimers && L.timers[0].at <= loop_now_ns();
}

static void dispatch(const struct epoll_event *ev)
{
    void *p = ev->data.ptr;
    struct watch *w = p;
    unsigned e = 0;

    if (p == &tfd_marker) {
        run_timers();
        return;
    }
    if (p == &sfd_marker) {
        run_signals();
        return;
    }
    /* a callback earlier in this batch may have removed this watch */
    if (!w->fn)
        return;
    if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        e |= LOOP_READ;
    if (ev->events & EPOLLOUT)
        e |= LOOP_WRITE;
    w->fn(w->fd, e, w->arg);
}

int loop_run(void)
{
    struct epoll_event evs[64];
    bool resumed = false;

    L.quit = false;
    while (!L.quit) {
        int n;

        /*
         * After EINTR the wait goes on from where it was entered: a stop
         * (SIGSTOP, SIGTSTP) ends a blocked epoll_wait with EINTR once the
         * process is continued, and the time stopped was spent waiting, not
         * running callbacks.
         */
        if (!resumed)
            L.wait_enter = loop_now_ns();
        n = epoll_wait(L.epfd, evs, (int)(sizeof(evs) / sizeof(evs[0])), -1);
        L.wait_leave = loop_now_ns();
        if (!sched_ns(&L.cpu_leave, &L.rq_leave))
            L.cpu_leave = L.rq_leave = 0;
        if (n < 0) {
            if (errno == EINTR) {
                resumed = true;
                continue;
            }
            return -errno;
        }
        resumed = false;
        for (int i = 0; i < n && !L.quit; i++) {
            dispatch(&evs[i]);
            /*
             * A deadline that passed during that callback is served now, not
             * after the batch or the next wait: 64 busy clients, each taking
             * a while, must not hold a sample back by all of theirs (and the
             * time it waited is then all since this batch's wait returned,
             * which is what loop_delay_split measures from).
             */
            if (!L.quit && timer_due())
                run_timers();
        }
        free_dead();
    }
    return 0;
}

void loop_quit(void)
{
    L.quit = true;
}
