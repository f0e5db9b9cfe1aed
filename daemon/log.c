#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static bool prefix;

void log_init(void)
{
    prefix = !isatty(STDERR_FILENO);
}

void log_msg(int prio, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (prefix)
        fprintf(stderr, "<%d>%s\n", prio, line);
    else
        fprintf(stderr, "kmemwatchd: %s\n", line);
}

bool log_ratelimit_ok(struct log_ratelimit *rl, uint64_t now_ns)
{
    if (now_ns - rl->begin >= rl->interval_ns || rl->begin == 0) {
        if (rl->suppressed)
            log_msg(LOG_WARNING, "%u similar messages suppressed", rl->suppressed);
        rl->begin = now_ns;
        rl->count = 0;
        rl->suppressed = 0;
    }
    if (rl->count < rl->burst) {
        rl->count++;
        return true;
    }
    rl->suppressed++;
    return false;
}
