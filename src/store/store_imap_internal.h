/*
 * Private to the IMAP store: the connection pool and the open-folder state
 * shared by store_imap.c (store level), store_imap_folder.c (listing,
 * fetching, flags), store_imap_expunge.c (deletion) and store_imap_save.c
 * (APPEND).
 */
#ifndef STORE_IMAP_INTERNAL_H
#define STORE_IMAP_INTERNAL_H

#include "base/buf.h"
#include "base/strutil.h"
#include "base/uidset.h"
#include "imap/imap_session.h"
#include "store/store_imap.h"

#include <pthread.h>
#include <sys/types.h>
#include <time.h>

/* Longest UID set text put in one command; commands are pipelined instead. */
#define IMAP_SET_MAX 4000

struct imap_slot {
    struct imap_session *session; /* NULL when not connected */
    bool busy;
    char *selected;      /* folder selected on this session, or NULL */
    bool selected_write; /* SELECT (true) or EXAMINE */
    struct timespec released; /* CLOCK_MONOTONIC when last given back to the pool */
};

struct store_imap {
    struct store base;
    struct store_imap_opts o;
    /* Copies of the option strings, owned. */
    struct strvec owned;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct imap_slot *slots;
    unsigned n_slots;
    int64_t login_ns; /* how long the last connection took to open and log in */
    char delim;       /* hierarchy delimiter, '\0' if flat */
    bool delim_known;
    /* For the next list_folders (imap_want_counters): counters wanted, folders expected. */
    bool want_counters;
    struct strvec expect;
};

enum fetch_mode {
    FETCH_MODE_NONE = 0,
    FETCH_MODE_LIST,
    FETCH_MODE_BODY,
    FETCH_MODE_INFO,
    FETCH_MODE_CHANGES,
};

struct store_folder {
    struct store_imap *st;
    struct imap_slot *slot;
    char *name;
    struct store_folder_info info;
    bool write;
    /* Untagged FETCH handling for the current operation. */
    enum fetch_mode mode;
    struct store_msg_list *list_out;
    const struct store_list_opts *list_opts;
    uint32_t list_bad; /* FETCH responses without a usable UID */
    /* Body fetch state. */
    const struct store_sink *sink;
    const struct uidvec *wanted; /* sorted UIDs requested */
    uint8_t *delivered;          /* per wanted index: 1 once handed to the sink */
    bool in_body;                /* a streamed body is in progress */
    uint32_t body_uid;           /* its UID when it came before the body, else 0 */
    bool body_failed;            /* the sink refused the current body */
    struct err body_err;
    uint64_t unknown_keywords;
    /* msg_info: results by position in the sorted wanted list. */
    struct store_msg_info *info_out;
    /* list_changes: where VANISHED and SEARCH answers go. */
    struct store_changes *changes;
    /* Saves in flight. */
    struct err save_err;
    /* Flag changes sent and not yet answered: the first refusal (flush reports it). */
    struct err flags_err;
    /* Deletions sent and not yet answered (delete_msgs_queued): the first refusal. */
    struct err delete_err;
    /*
     * Deletions (store_imap_expunge.c): the UIDs sent in UID EXPUNGE and not
     * yet confirmed, the UIDs the server reported gone meanwhile (VANISHED,
     * with QRESYNC) and the number of "* n EXPUNGE" heard (without).
     */
    struct uidvec expunge_asked;
    struct uidvec expunge_seen;
    uint32_t expunge_count;
    struct uidvec *search_out; /* when set, UID SEARCH answers go here */
    /* Without UIDPLUS: stored appends whose UID is still to be searched for. */
    struct append **searches;
    size_t n_searches, cap_searches;
    size_t search_head; /* next search whose untagged SEARCH answer is due */
};

struct append;

struct store_writer {
    struct store_folder *f;
    uint64_t left;
    uint64_t token;
};

/* store_imap.c */
bool store_imap_acquire(struct store_imap *st, struct imap_slot **slot_r, struct err *e);
void store_imap_release(struct store_imap *st, struct imap_slot *slot);
/*
 * Run "<verb> <name as astring><suffix>" and wait for it; suffix is raw
 * protocol text (may be "").  res_r may be NULL.
 */
bool store_imap_name_command(const struct store_imap *st, struct imap_session *s,
                             struct imap_result *res_r, const char *verb, const char *name,
                             const char *suffix, struct err *e);
/* The name as sent on the wire (encoded to modified UTF-7 with utf8_names) into tmp. */
const char *store_imap_wire_name(const struct store_imap *st, const char *name, struct buf *tmp);
/* IMAP flag list text "(\Seen \Flagged)" for a flag set; keywords via customflag. */
void store_imap_flag_list(const struct store_imap *st, flagset_t flags, struct buf *out);
/* Flag set from the FLAGS of a FETCH; unknown keywords are counted in *unknown_r. */
flagset_t store_imap_flags_from(const struct store_imap *st, const struct imap_arg *flags, size_t n,
                                uint64_t *unknown_r);

/* store_imap_query.c: listing changes, in two halves so that it can follow a SELECT. */
struct store_imap_changes_wait {
    bool qresync, esearch, searched;
    struct imap_result fetch, search;
};
/* Queue the commands (the answers come with the next wait). */
void store_imap_changes_begin(struct store_folder *f, const struct store_list_opts *opts,
                              uint64_t since_modseq, struct store_changes *out,
                              struct store_imap_changes_wait *w);
/* After the wait: check the answers, finish out (freed on failure). */
bool store_imap_changes_end(struct store_folder *f, struct store_changes *out,
                            struct store_imap_changes_wait *w, struct err *e);

/* store_imap_folder.c */
bool store_imap_open_folder(struct store *s, const char *name, bool for_write,
                            struct store_folder **f_r, struct err *e);
bool store_imap_open_folder_changes(struct store *s, const char *name, bool for_write,
                                    const struct store_list_opts *opts, uint64_t since_modseq,
                                    struct store_folder **f_r, struct store_changes *ch,
                                    bool *have_r, struct err *e);
void store_imap_close_folder(struct store_folder **f);
const struct store_folder_info *store_imap_folder_info(struct store_folder *f);
bool store_imap_list_msgs(struct store_folder *f, const struct store_list_opts *opts,
                          struct store_msg_list *out, struct err *e);
bool store_imap_fetch(struct store_folder *f, const struct store_msg *msgs, size_t n,
                      const struct store_sink *sink, struct err *e);
bool store_imap_set_flags(struct store_folder *f, const struct store_msg *msgs, size_t n,
                          flagset_t flags, bool add, struct err *e);
bool store_imap_set_uid(struct store_folder *f, const struct store_msg *msg, uint32_t uid,
                        struct err *e);
/* The UIDs of msgs, sorted, without duplicates, appended to out. */
void store_imap_msg_uids(const struct store_msg *msgs, size_t n, struct uidvec *out);
/*
 * Sends "<verb> <set><suffix>" for the sorted uids, in commands of bounded
 * length; answers go to done with refused (which must outlive them).
 */
bool store_imap_send_sets(struct store_folder *f, const char *verb, const struct uidvec *uids,
                          const char *suffix, imap_done_fn *done, struct err *refused,
                          struct err *e);
/* UID STORE of flaglist (+ or -) for the sorted uids: store_imap_send_sets, store_done. */
bool store_imap_send_flags(struct store_folder *f, const struct uidvec *uids, const char *flaglist,
                           bool add, struct err *refused, struct err *e);
/* Answer callback of a STORE or EXPUNGE: ctx is the struct err of the first refusal. */
void store_imap_store_done(void *ctx, const struct imap_resp *r, const struct err *e);
/* A FETCH answer with UID and FLAGS, into f->list_out (listing and changes). */
void store_imap_list_fetch(struct store_folder *f, const struct imap_fetch *ft);
/* Index of uid in f->wanted, or -1. */
ssize_t store_imap_wanted_index(const struct store_folder *f, uint32_t uid);

/* store_imap_query.c */
void store_imap_info_fetch(struct store_folder *f, const struct imap_fetch *ft);
void store_imap_changes_untagged(struct store_folder *f, const struct imap_resp *r);
bool store_imap_list_changes(struct store_folder *f, const struct store_list_opts *opts,
                             uint64_t since_modseq, struct store_changes *out, struct err *e);
bool store_imap_msg_ident(struct store_folder *f, const struct store_msg *msg, struct buf *out,
                          struct err *e);
bool store_imap_msg_info(struct store_folder *f, const struct store_msg *msgs, size_t n,
                         struct store_msg_info *out, struct err *e);

/* store_imap_save.c */
bool store_imap_save_begin(struct store_folder *f, const struct store_msg *meta, uint64_t wire_size,
                           struct store_writer **w_r, struct err *e);
bool store_imap_save_write(struct store_writer *w, const void *data, size_t len, struct err *e);
bool store_imap_save_commit(struct store_writer *w, const struct store_msg *meta,
                            store_saved_fn *saved, void *ctx, uint64_t token, struct err *e);
void store_imap_save_abort(struct store_writer *w);
bool store_imap_flush(struct store_folder *f, struct err *e);
/* Finish appends still waiting for a UID search (at close). */
void store_imap_save_drop(struct store_folder *f);
/* An untagged SEARCH answer for the UID searches of store_imap_flush(). */
void store_imap_search_answer(struct store_folder *f, const struct imap_resp *r);

/* store_imap_expunge.c */
bool store_imap_delete_msgs_queued(struct store_folder *f, const struct store_msg *msgs, size_t n,
                                   struct err *e);
bool store_imap_delete_msgs(struct store_folder *f, const struct store_msg *msgs, size_t n,
                            struct err *e);
/* A VANISHED or EXPUNGE while deletions are unconfirmed: taken (true) or not ours. */
bool store_imap_expunge_untagged(struct store_folder *f, const struct imap_resp *r);
/* A SEARCH answer into f->search_out. */
void store_imap_search_into(struct store_folder *f, const struct imap_resp *r);
/*
 * Once every command is answered: did the server expunge what it was asked
 * to?  What it did not report is asked again, then looked up; false (a
 * folder error) when it still holds any of them.
 */
bool store_imap_expunge_confirm(struct store_folder *f, struct err *e);
/* Drop the deletion state (at close). */
void store_imap_expunge_forget(struct store_folder *f);

#endif
