// Fixed-arity wrappers around libedit's variadic el_set/el_get/history, which Swift cannot call,
// and accessors for the C globals (stdin, stdout, stderr) that Swift 6 rejects as not concurrency-safe.
#ifndef MRSH_CLIBEDIT_SHIM_H
#define MRSH_CLIBEDIT_SHIM_H
#include <stdio.h>
#include <histedit.h>

/// The prompt callback type of EL_PROMPT.
typedef char *(*mrsh_el_prompt_fn)(EditLine *);
/// The type of a function added with EL_ADDFN: returns a CC_* code.
typedef unsigned char (*mrsh_el_command_fn)(EditLine *, int);

/// el_init on the process's standard input, output and error.
static inline EditLine *mrsh_el_init(const char *program) {
    return el_init(program, stdin, stdout, stderr);
}

static inline int mrsh_el_set_prompt(EditLine *el, mrsh_el_prompt_fn fn) {
    return el_set(el, EL_PROMPT, fn);
}

static inline int mrsh_el_set_editor(EditLine *el, const char *mode) {
    return el_set(el, EL_EDITOR, mode);
}

static inline int mrsh_el_set_signal(EditLine *el, int on) {
    return el_set(el, EL_SIGNAL, on);
}

static inline int mrsh_el_set_history(EditLine *el, History *h) {
    return el_set(el, EL_HIST, history, h);
}

static inline int mrsh_el_set_clientdata(EditLine *el, void *data) {
    return el_set(el, EL_CLIENTDATA, data);
}

static inline void *mrsh_el_get_clientdata(EditLine *el) {
    void *data = NULL;
    if (el_get(el, EL_CLIENTDATA, &data) != 0) return NULL;
    return data;
}

static inline int mrsh_el_addfn(EditLine *el, const char *name, const char *help, mrsh_el_command_fn fn) {
    return el_set(el, EL_ADDFN, name, help, fn);
}

/// Binds one key sequence (e.g. "^I") to a named function (`bind KEY NAME`).
static inline int mrsh_el_bind(EditLine *el, const char *key, const char *name) {
    return el_set(el, EL_BIND, key, name, (const char *)NULL);
}

/// Turns the terminal's signal characters off while editing (`stty -isig` in edit mode), so that
/// Ctrl-C reaches the editor as a key instead of as SIGINT to whichever thread the kernel picks.
static inline int mrsh_el_edit_mode_without_signals(EditLine *el) {
    return el_set(el, EL_SETTY, "-d", "-isig", (const char *)NULL);
}

/// Puts the terminal in edit (raw) mode now. el_gets leaves it in cooked mode when input is already
/// waiting (typeahead), where Ctrl-C would be a signal and keys would wait for Enter.
static inline int mrsh_el_prepare_terminal(EditLine *el) {
    return el_set(el, EL_PREP_TERM, 1);
}

/// Reads ~/.editrc (or $EDITRC) if present, like other libedit programs.
static inline int mrsh_el_source_default(EditLine *el) {
    return el_source(el, NULL);
}

/// The line being edited: its text from `buffer` to `lastchar`, the cursor at `cursor`.
static inline const char *mrsh_el_line(EditLine *el, int *cursor_offset, int *length) {
    const LineInfo *li = el_line(el);
    *cursor_offset = (int)(li->cursor - li->buffer);
    *length = (int)(li->lastchar - li->buffer);
    return li->buffer;
}

static inline History *mrsh_history_init(void) { return history_init(); }

static inline int mrsh_history_setsize(History *h, int size) {
    HistEvent ev;
    return history(h, &ev, H_SETSIZE, size);
}

static inline int mrsh_history_setunique(History *h, int on) {
    HistEvent ev;
    return history(h, &ev, H_SETUNIQUE, on);
}

static inline int mrsh_history_enter(History *h, const char *entry) {
    HistEvent ev;
    return history(h, &ev, H_ENTER, entry);
}

/// Loads a history file; returns the number of entries read, or -1.
static inline int mrsh_history_load(History *h, const char *path) {
    HistEvent ev;
    return history(h, &ev, H_LOAD, path);
}

/// Saves to a history file; returns the number of entries written, or -1.
static inline int mrsh_history_save(History *h, const char *path) {
    HistEvent ev;
    return history(h, &ev, H_SAVE, path);
}

static inline int mrsh_history_clear(History *h) {
    HistEvent ev;
    return history(h, &ev, H_CLEAR);
}

/// Moves to the oldest (`H_LAST`) or next newer (`H_PREV`) entry and returns its text, or NULL at the end.
static inline const char *mrsh_history_step(History *h, int op) {
    HistEvent ev;
    if (history(h, &ev, op) != 0) return NULL;
    return ev.str;
}

// Pseudo-terminal and spawn helpers for the shell's terminal tests. Glibc declares these only under
// _XOPEN_SOURCE/_GNU_SOURCE, which Swift's Glibc module does not define.
#include <spawn.h>
#include <stdlib.h>
extern int posix_openpt(int flags);
extern int grantpt(int fd);
extern int unlockpt(int fd);
extern int ptsname_r(int fd, char *buf, size_t buflen);
extern int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *actions, const char *path);

/// Opens a pseudo-terminal master, unlocked, and writes its slave's path into `path`; -1 on failure.
static inline int mrsh_open_pty(int flags, char *path, size_t size) {
    int fd = posix_openpt(flags);
    if (fd < 0) return -1;
    if (grantpt(fd) != 0 || unlockpt(fd) != 0 || ptsname_r(fd, path, size) != 0) return -1;
    return fd;
}

static inline int mrsh_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

/// POSIX_SPAWN_SETSID (glibc 2.26 and later).
static inline short mrsh_spawn_setsid_flag(void) { return 0x80; }

#endif
