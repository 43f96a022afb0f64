/* log: logfmt lines on stderr with a level, a message and key/value pairs, e.g.
 *   ts=2026-11-23T20:40:00.123Z level=info msg="evaluation done" slos=12 duration=0.041
 * Safe from several threads; one write per line. Never pass a secret. */
#ifndef SLOE_LOG_H
#define SLOE_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the lowest level written; returns 0, or -1 when name is not debug|info|warn|error. */
int log_set_level(const char *name);

/* Writes one line when level is enabled: msg, then the key/value string pairs that follow,
 * ending with NULL. Values are quoted when they need to be. */
void log_msg(enum log_level level, const char *msg, ...) __attribute__((sentinel));

#endif
