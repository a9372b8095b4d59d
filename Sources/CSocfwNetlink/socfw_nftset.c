// Interval-set elements over netlink: add, delete, list, flush. See
// socfw_nftset.h for the encoding of a range and the retry contract.
//
// Kernel behaviour this file is built around (net/netfilter/nfnetlink.c,
// nfnetlink_rcv_batch): a NFNL_MSG_BATCH_BEGIN..END batch is one
// transaction, applied all or nothing; the kernel does not stop at the first
// refused message but processes the rest and answers each message (an ACK
// when NLM_F_ACK is set, an error always), all before sendmsg() returns.
// Errors of the batch itself (permission, commit) come back on the BEGIN
// message's sequence number.
#define _GNU_SOURCE
#include "socfw_nftset.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <libnftnl/batch.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

// An attribute's length is 16 bits, so a message's NFTA_SET_ELEM_LIST_ELEMENTS
// nest must stay under 65535 bytes (libnftnl's build_payload_iter stops at the
// same limit). Some room is kept for rounding.
#define ELEMENTS_NEST_BUDGET 60000u
// One transaction at most this big and with at most this many messages; more
// is split into several transactions. 100,000 IPv4 ranges are about 6 MiB.
#define MAX_BATCH_BYTES (32u << 20)
#define MAX_BATCH_MESSAGES 1024u
// Each message gets an ACK (an skb of ~1 KiB truesize): 1024 of them fit
// easily. Dumps use 32 KiB skbs.
#define RECEIVE_BUFFER_BYTES (16 << 20)
#define RECEIVE_CHUNK_BYTES (128 * 1024)
// Rounds of apply(): 1 normally, 3 when something was refused (the batch,
// the failing messages range by range, the rest without the refused ranges).
#define MAX_ROUNDS 8
#define RECEIVE_TIMEOUT_SECONDS 10
#define MAX_DUMP_RESTARTS 8

// nft's element user data marking an interval open to the end of the
// address space: TLV NFTNL_UDATA_SET_ELEM_FLAGS (1), length 4,
// NFTNL_SET_ELEM_F_INTERVAL_OPEN (1) in host order (nftables include/rule.h).
static const uint8_t OPEN_INTERVAL_UDATA[6] = {1, 4, 1, 0, 0, 0};

struct socfw_nftset {
    struct mnl_socket *nl;
    uint32_t portid;
    uint32_t seq;
    size_t max_batch_bytes;    // what the socket's send buffer allows
    char *buf;                 // the batch being built
    size_t buf_capacity;
    char *rbuf;                // RECEIVE_CHUNK_BYTES
};

/// A run of ranges sent as one netlink message. count == 0: no element list
/// (a DELSETELEM without elements flushes the set).
struct span {
    size_t first;
    uint32_t count;
    uint8_t op;
};

static const char *family_name(uint32_t family) {
    switch (family) {
    case NFPROTO_INET: return "inet";
    case NFPROTO_IPV4: return "ip";
    case NFPROTO_IPV6: return "ip6";
    case NFPROTO_BRIDGE: return "bridge";
    case NFPROTO_ARP: return "arp";
    case NFPROTO_NETDEV: return "netdev";
    default: return "?";
    }
}

static int fail(char *errbuf, size_t errlen, int err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *errbuf, size_t errlen, int err, const char *fmt, ...) {
    if (errbuf && errlen) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < errlen && err)
            snprintf(errbuf + n, errlen - (size_t)n, ": %s", strerror(err));
    }
    return -err;
}

socfw_nftset *socfw_nftset_open(char *errbuf, size_t errlen) {
    socfw_nftset *h = calloc(1, sizeof *h);
    if (!h) { fail(errbuf, errlen, ENOMEM, "nftset: allocating the handle"); return NULL; }
    h->rbuf = malloc(RECEIVE_CHUNK_BYTES);
    h->nl = mnl_socket_open(NETLINK_NETFILTER);
    if (!h->rbuf || !h->nl || mnl_socket_bind(h->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        fail(errbuf, errlen, h->rbuf ? errno : ENOMEM, "nftset: opening a netfilter netlink socket");
        socfw_nftset_close(h);
        return NULL;
    }
    h->portid = mnl_socket_get_portid(h->nl);
    h->seq = (uint32_t)time(NULL);
    int fd = mnl_socket_get_fd(h->nl);

    // Error replies carry only the header of the refused message, not a copy
    // of up to 64 KiB of elements.
    int one = 1;
    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);

    // netlink_sendmsg refuses a message longer than sk_sndbuf - 32 (EMSGSIZE):
    // a transaction is one sendmsg, so the send buffer bounds its size. The
    // FORCE variants need CAP_NET_ADMIN, which changing nftables needs anyway.
    int want = (int)MAX_BATCH_BYTES + (1 << 20);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof want) < 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof want);
    int have = 0;
    socklen_t len = sizeof have;
    if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &have, &len) < 0 || have < 65536) have = 65536;
    h->max_batch_bytes = (size_t)have - 64;  // the kernel doubled what we asked; the check is len > sk_sndbuf - 32
    if (h->max_batch_bytes > MAX_BATCH_BYTES) h->max_batch_bytes = MAX_BATCH_BYTES;

    int rcv = RECEIVE_BUFFER_BYTES;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    struct timeval tv = {.tv_sec = RECEIVE_TIMEOUT_SECONDS};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return h;
}

void socfw_nftset_close(socfw_nftset *h) {
    if (!h) return;
    if (h->nl) mnl_socket_close(h->nl);
    free(h->buf);
    free(h->rbuf);
    free(h);
}

// ---------------------------------------------------------------- sizes

/// Bytes one range adds to a message's element list (an upper bound of what
/// libnftnl writes: nests, key, flags, timeout, user data).
static size_t range_bytes(const struct socfw_nftset_range *r, uint8_t op) {
    size_t key = MNL_ALIGN(MNL_ATTR_HDRLEN + r->key_len);
    size_t start = MNL_ATTR_HDRLEN /* NFTA_LIST_ELEM */ + MNL_ATTR_HDRLEN /* KEY */ + key;
    if (op == SOCFW_NFTSET_ADD && r->timeout_ms) start += MNL_ALIGN(MNL_ATTR_HDRLEN + sizeof(uint64_t));
    if (op == SOCFW_NFTSET_ADD && r->open_end) start += MNL_ALIGN(MNL_ATTR_HDRLEN + sizeof OPEN_INTERVAL_UDATA);
    size_t end = r->open_end ? 0
                             : MNL_ATTR_HDRLEN + MNL_ALIGN(MNL_ATTR_HDRLEN + sizeof(uint32_t)) /* FLAGS */ +
                                   MNL_ATTR_HDRLEN + key;
    return start + end;
}

/// Bytes of a message without its elements: headers, table and set names,
/// the element-list nest.
static size_t message_overhead(const char *table, const char *set) {
    return MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)) + MNL_ALIGN(MNL_ATTR_HDRLEN + strlen(table) + 1) +
           MNL_ALIGN(MNL_ATTR_HDRLEN + strlen(set) + 1) + MNL_ATTR_HDRLEN;
}

static size_t span_bytes(const struct socfw_nftset_range *ranges, const struct span *s, size_t overhead) {
    size_t bytes = overhead;
    for (uint32_t i = 0; i < s->count; i++) bytes += range_bytes(&ranges[s->first + i], s->op);
    return bytes;
}

static int reserve(socfw_nftset *h, size_t bytes) {
    if (bytes <= h->buf_capacity) return 0;
    char *b = realloc(h->buf, bytes);
    if (!b) return -ENOMEM;
    h->buf = b;
    h->buf_capacity = bytes;
    return 0;
}

// ---------------------------------------------------------------- messages

static struct nftnl_set_elem *element(const uint8_t *key, uint8_t key_len) {
    struct nftnl_set_elem *e = nftnl_set_elem_alloc();
    if (e) nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, key_len);
    return e;
}

/// Writes one NEWSETELEM / DELSETELEM message for `s` at h->buf + offset;
/// returns its aligned length, or 0 when out of memory.
static size_t build_message(socfw_nftset *h, size_t offset, uint32_t family, const char *table, const char *set,
                            const struct socfw_nftset_range *ranges, const struct span *s, uint32_t seq) {
    struct nftnl_set *list = nftnl_set_alloc();
    if (!list) return 0;
    nftnl_set_set_str(list, NFTNL_SET_TABLE, table);
    nftnl_set_set_str(list, NFTNL_SET_NAME, set);
    bool add = s->op == SOCFW_NFTSET_ADD;
    for (uint32_t i = 0; i < s->count; i++) {
        const struct socfw_nftset_range *r = &ranges[s->first + i];
        struct nftnl_set_elem *start = element(r->start, r->key_len);
        if (!start) { nftnl_set_free(list); return 0; }
        if (add && r->timeout_ms) nftnl_set_elem_set_u64(start, NFTNL_SET_ELEM_TIMEOUT, r->timeout_ms);
        if (add && r->open_end)
            nftnl_set_elem_set(start, NFTNL_SET_ELEM_USERDATA, OPEN_INTERVAL_UDATA, sizeof OPEN_INTERVAL_UDATA);
        nftnl_set_elem_add(list, start);
        if (!r->open_end) {
            struct nftnl_set_elem *end = element(r->end, r->key_len);
            if (!end) { nftnl_set_free(list); return 0; }
            nftnl_set_elem_set_u32(end, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
            nftnl_set_elem_add(list, end);
        }
    }
    // No NLM_F_EXCL: re-adding a range that is already there is not an error
    // (the kernel refreshes its timeout); an overlap still is (EEXIST).
    uint16_t flags = NLM_F_ACK | (add ? NLM_F_CREATE : 0);
    struct nlmsghdr *nlh =
        nftnl_nlmsg_build_hdr(h->buf + offset, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, family, flags, seq);
    nftnl_set_elems_nlmsg_build_payload(nlh, list);
    nftnl_set_free(list);
    return NLMSG_ALIGN(nlh->nlmsg_len);
}

/// Reads replies until every message of the batch has its answer. errs[i]
/// gets message i's 0 / -errno. *batch_error gets an error answered on the
/// BEGIN message. Returns 0 or -errno of the socket.
static int read_answers(socfw_nftset *h, uint32_t begin_seq, uint32_t count, int32_t *errs, int *batch_error) {
    uint8_t *seen = calloc(count ? count : 1, 1);
    if (!seen) return -ENOMEM;
    uint32_t answered = 0;
    int rc = 0;
    *batch_error = 0;
    // Replies are queued before sendmsg() returns; wait only as a safety
    // net, and after a batch error take only what is already there.
    while (answered < count) {
        ssize_t n = recv(mnl_socket_get_fd(h->nl), h->rbuf, RECEIVE_CHUNK_BYTES, *batch_error ? MSG_DONTWAIT : 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if ((errno == EAGAIN || errno == EWOULDBLOCK) && *batch_error) break;
            rc = (errno == EAGAIN || errno == EWOULDBLOCK) ? -ETIMEDOUT : -errno;
            break;
        }
        int len = (int)n;
        for (const struct nlmsghdr *nlh = (const struct nlmsghdr *)h->rbuf; mnl_nlmsg_ok(nlh, len);
             nlh = mnl_nlmsg_next(nlh, &len)) {
            if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) continue;
            const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
            uint32_t seq = nlh->nlmsg_seq;
            if (seq == begin_seq) {
                if (e->error) *batch_error = e->error;
            } else if (seq - begin_seq - 1 < count) {
                uint32_t i = seq - begin_seq - 1;
                if (!seen[i]) { seen[i] = 1; errs[i] = e->error; answered++; }
            }  // else: an answer to an earlier, abandoned request
        }
    }
    free(seen);
    return rc;
}

/// Sends spans[0..<count] as one transaction; per-message answers in errs.
static int send_batch(socfw_nftset *h, uint32_t family, const char *table, const char *set,
                      const struct socfw_nftset_range *ranges, const struct span *spans, uint32_t count,
                      size_t bytes_bound, int32_t *errs, int *batch_error) {
    int rc = reserve(h, bytes_bound + 2 * MNL_ALIGN(MNL_NLMSG_HDRLEN + sizeof(struct nfgenmsg)) + 4096);
    if (rc) return rc;
    uint32_t begin_seq = h->seq;
    h->seq += count + 2;
    size_t off = 0;
    struct nlmsghdr *nlh = nftnl_batch_begin(h->buf, begin_seq);
    off += NLMSG_ALIGN(nlh->nlmsg_len);
    size_t overhead = message_overhead(table, set);
    for (uint32_t i = 0; i < count; i++) {
        size_t n = build_message(h, off, family, table, set, ranges, &spans[i], begin_seq + 1 + i);
        if (!n) return -ENOMEM;
        // The buffer was sized from range_bytes(), an upper bound of what
        // libnftnl writes; a longer message means that bound is wrong and
        // memory past the buffer may already be overwritten.
        if (n > span_bytes(ranges, &spans[i], overhead)) abort();
        off += n;
    }
    nlh = nftnl_batch_end(h->buf + off, begin_seq + 1 + count);
    off += NLMSG_ALIGN(nlh->nlmsg_len);
    for (uint32_t i = 0; i < count; i++) errs[i] = 0;
    if (mnl_socket_sendto(h->nl, h->buf, off) < 0) return -errno;
    return read_answers(h, begin_seq, count, errs, batch_error);
}

// ---------------------------------------------------------------- apply

static int check_ranges(const struct socfw_nftset_range *ranges, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (ranges[i].key_len != 4 && ranges[i].key_len != 16) return -EINVAL;
        if (ranges[i].op != SOCFW_NFTSET_ADD && ranges[i].op != SOCFW_NFTSET_DELETE) return -EINVAL;
    }
    return 0;
}

int socfw_nftset_apply(socfw_nftset *h, uint32_t family, const char *table, const char *set,
                       struct socfw_nftset_range *ranges, size_t n, struct socfw_nftset_stats *stats,
                       char *errbuf, size_t errlen) {
    struct socfw_nftset_stats local = {0};
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    if (errbuf && errlen) errbuf[0] = 0;
    const char *fam = family_name(family);
    if (check_ranges(ranges, n))
        return fail(errbuf, errlen, EINVAL, "set %s %s %s: a range has a key length other than 4 or 16 or an unknown op",
                    fam, table, set);
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++) ranges[i].result = 0;

    size_t overhead = message_overhead(table, set);
    // Messages: runs of ranges with the same op, each under the nest budget.
    size_t cap = n;  // a split never makes more messages than ranges
    struct span *pending = malloc(cap * sizeof *pending);
    struct span *next = malloc(cap * sizeof *next);
    int32_t *errs = malloc(MAX_BATCH_MESSAGES * sizeof *errs);
    int rc = 0;
    if (!pending || !next || !errs) { rc = fail(errbuf, errlen, ENOMEM, "set %s %s %s", fam, table, set); goto out; }
    size_t npending = 0;
    for (size_t i = 0; i < n;) {
        struct span s = {.first = i, .count = 0, .op = ranges[i].op};
        size_t bytes = 0;
        while (i < n && ranges[i].op == s.op) {
            size_t b = range_bytes(&ranges[i], s.op);
            if (s.count && bytes + b > ELEMENTS_NEST_BUDGET) break;
            bytes += b;
            s.count++;
            i++;
        }
        pending[npending++] = s;
    }

    bool set_checked = false;
    while (npending) {
        if (++stats->rounds > MAX_ROUNDS) {
            // The kernel kept refusing different messages each time: mark what is left.
            for (size_t k = 0; k < npending; k++)
                for (uint32_t j = 0; j < pending[k].count; j++) ranges[pending[k].first + j].result = -EAGAIN;
            break;
        }
        size_t nnext = 0;
        for (size_t k = 0; k < npending;) {
            // Cut one transaction out of the pending messages.
            size_t j = k, bytes = 0;
            while (j < npending && j - k < MAX_BATCH_MESSAGES) {
                size_t b = span_bytes(ranges, &pending[j], overhead);
                if (j > k && bytes + b > h->max_batch_bytes) break;
                bytes += b;
                j++;
            }
            uint32_t count = (uint32_t)(j - k);
            int batch_error = 0;
            rc = send_batch(h, family, table, set, ranges, &pending[k], count, bytes, errs, &batch_error);
            stats->batches++;
            stats->messages += count;
            if (rc < 0) {
                rc = fail(errbuf, errlen, -rc, "set %s %s %s: sending %u messages (%zu bytes)", fam, table, set, count,
                          bytes);
                goto out;
            }
            if (batch_error) {
                rc = fail(errbuf, errlen, -batch_error, "set %s %s %s: the kernel refused the transaction", fam, table,
                          set);
                goto out;
            }
            bool refused = false;
            for (uint32_t m = 0; m < count; m++) refused |= errs[m] != 0;
            bool full = false;
            for (uint32_t m = 0; m < count; m++) {
                const struct span *s = &pending[k + m];
                if (!refused) continue;  // committed: every result stays 0
                if (errs[m] == 0) { next[nnext++] = *s; continue; }  // rolled back with the others: resend
                // Measured on 6.18 (nft_set_rbtree): when a range is refused
                // because the set is full, its start element stays in the
                // transaction as an interval open to the end of the space, and
                // every later range above it in the batch is answered EEXIST.
                // Those ranges cannot be added to the full set either: report
                // them as what stopped them.
                if (s->op == SOCFW_NFTSET_ADD && full && errs[m] == -EEXIST) errs[m] = -ENFILE;
                if (s->op == SOCFW_NFTSET_ADD && (errs[m] == -ENFILE || errs[m] == -ENOSPC)) full = true;
                stats->failed_messages++;
                stats->last_errno = -errs[m];
                if (errs[m] == -ENOENT && !set_checked) {
                    // ENOENT also means "no such table or set": do not report
                    // every range of a missing set as "already gone".
                    set_checked = true;
                    uint32_t kl, fl, sz;
                    char why[256];
                    int d = socfw_nftset_describe(h, family, table, set, &kl, &fl, &sz, why, sizeof why);
                    if (d == -ENOENT) {
                        fail(errbuf, errlen, 0, "set %s %s %s does not exist", fam, table, set);
                        rc = -ENOENT;
                        goto out;
                    }
                }
                if (s->count == 1) {
                    ranges[s->first].result = errs[m];
                } else {
                    stats->split_messages++;
                    for (uint32_t r = 0; r < s->count; r++)
                        next[nnext++] = (struct span){.first = s->first + r, .count = 1, .op = s->op};
                }
            }
            k = j;
        }
        struct span *t = pending;
        pending = next;
        next = t;
        npending = nnext;
    }
    rc = 0;
out:
    free(pending);
    free(next);
    free(errs);
    return rc;
}

static int apply_all(socfw_nftset *h, uint8_t op, uint32_t family, const char *table, const char *set,
                     struct socfw_nftset_range *ranges, size_t n, struct socfw_nftset_stats *stats, char *errbuf,
                     size_t errlen) {
    for (size_t i = 0; i < n; i++) ranges[i].op = op;
    return socfw_nftset_apply(h, family, table, set, ranges, n, stats, errbuf, errlen);
}

int socfw_nftset_add(socfw_nftset *h, uint32_t family, const char *table, const char *set,
                     struct socfw_nftset_range *ranges, size_t n, struct socfw_nftset_stats *stats, char *errbuf,
                     size_t errlen) {
    return apply_all(h, SOCFW_NFTSET_ADD, family, table, set, ranges, n, stats, errbuf, errlen);
}

int socfw_nftset_delete(socfw_nftset *h, uint32_t family, const char *table, const char *set,
                        struct socfw_nftset_range *ranges, size_t n, struct socfw_nftset_stats *stats, char *errbuf,
                        size_t errlen) {
    return apply_all(h, SOCFW_NFTSET_DELETE, family, table, set, ranges, n, stats, errbuf, errlen);
}

int socfw_nftset_flush(socfw_nftset *h, uint32_t family, const char *table, const char *set, char *errbuf,
                       size_t errlen) {
    if (errbuf && errlen) errbuf[0] = 0;
    struct span flush = {.first = 0, .count = 0, .op = SOCFW_NFTSET_DELETE};
    int32_t err = 0;
    int batch_error = 0;
    int rc = send_batch(h, family, table, set, NULL, &flush, 1, message_overhead(table, set), &err, &batch_error);
    if (rc == 0) rc = batch_error ? batch_error : err;
    if (rc < 0) return fail(errbuf, errlen, -rc, "flushing set %s %s %s", family_name(family), table, set);
    return 0;
}

// ---------------------------------------------------------------- requests (GETSET, dumps)

typedef int (*reply_cb)(const struct nlmsghdr *nlh, void *data);

/// Sends one request and hands every reply message to cb until NLMSG_DONE
/// (dumps) or the ACK (NLM_F_ACK requests). Returns 0, -errno from the
/// kernel, or -EINTR when a dump was interrupted by a change (after
/// draining it).
static int request(socfw_nftset *h, struct nlmsghdr *nlh, reply_cb cb, void *data) {
    uint32_t seq = nlh->nlmsg_seq;
    if (mnl_socket_sendto(h->nl, nlh, nlh->nlmsg_len) < 0) return -errno;
    int rc = 0;
    bool interrupted = false;
    for (;;) {
        ssize_t n = recv(mnl_socket_get_fd(h->nl), h->rbuf, RECEIVE_CHUNK_BYTES, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? -ETIMEDOUT : -errno;
        }
        int len = (int)n;
        for (const struct nlmsghdr *m = (const struct nlmsghdr *)h->rbuf; mnl_nlmsg_ok(m, len);
             m = mnl_nlmsg_next(m, &len)) {
            if (m->nlmsg_seq != seq || m->nlmsg_pid != h->portid) continue;  // stale
            if (m->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
            if (m->nlmsg_type == NLMSG_DONE) return interrupted ? -EINTR : rc;
            if (m->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
                return e->error ? e->error : (interrupted ? -EINTR : rc);
            }
            if (!interrupted && rc == 0 && cb) rc = cb(m, data);
        }
    }
}

struct described {
    uint32_t key_len, flags, size;
    bool found;
};

static int on_set(const struct nlmsghdr *nlh, void *data) {
    struct described *d = data;
    struct nftnl_set *s = nftnl_set_alloc();
    if (!s) return -ENOMEM;
    if (nftnl_set_nlmsg_parse(nlh, s) == 0) {
        d->found = true;
        d->key_len = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN);
        d->flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
        d->size = nftnl_set_is_set(s, NFTNL_SET_DESC_SIZE) ? nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE) : 0;
    }
    nftnl_set_free(s);
    return 0;
}

int socfw_nftset_describe(socfw_nftset *h, uint32_t family, const char *table, const char *set,
                          uint32_t *key_len, uint32_t *flags, uint32_t *size, char *errbuf, size_t errlen) {
    if (errbuf && errlen) errbuf[0] = 0;
    int rc = reserve(h, MNL_SOCKET_BUFFER_SIZE);
    if (rc) return fail(errbuf, errlen, -rc, "describing set");
    struct nftnl_set *s = nftnl_set_alloc();
    if (!s) return fail(errbuf, errlen, ENOMEM, "describing set");
    nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
    nftnl_set_set_str(s, NFTNL_SET_NAME, set);
    struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(h->buf, NFT_MSG_GETSET, family, NLM_F_ACK, h->seq++);
    nftnl_set_nlmsg_build_payload(nlh, s);
    nftnl_set_free(s);
    struct described d = {0};
    rc = request(h, nlh, on_set, &d);
    if (rc == 0 && !d.found) rc = -ENOENT;
    if (rc < 0) return fail(errbuf, errlen, -rc, "looking up set %s %s %s", family_name(family), table, set);
    if (key_len) *key_len = d.key_len;
    if (flags) *flags = d.flags;
    if (size) *size = d.size;
    return 0;
}

// ---------------------------------------------------------------- list

struct raw_element {
    uint8_t key[16];
    uint8_t key_len;
    uint8_t is_end;
    uint64_t timeout_ms;
    uint64_t expires_ms;
};

struct raw_list {
    struct raw_element *items;
    size_t count, capacity;
};

static int on_elements(const struct nlmsghdr *nlh, void *data) {
    struct raw_list *list = data;
    if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWSETELEM) return 0;
    struct nftnl_set *s = nftnl_set_alloc();
    if (!s) return -ENOMEM;
    int rc = 0;
    if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) { nftnl_set_free(s); return -EPROTO; }
    struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
    if (!it) { nftnl_set_free(s); return -ENOMEM; }
    for (struct nftnl_set_elem *e = nftnl_set_elems_iter_next(it); e; e = nftnl_set_elems_iter_next(it)) {
        uint32_t klen = 0;
        const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
        if (!key || klen == 0 || klen > 16) continue;  // a catch-all element has no key
        if (list->count == list->capacity) {
            size_t c = list->capacity ? list->capacity * 2 : 1024;
            struct raw_element *p = realloc(list->items, c * sizeof *p);
            if (!p) { rc = -ENOMEM; break; }
            list->items = p;
            list->capacity = c;
        }
        struct raw_element *r = &list->items[list->count++];
        memset(r, 0, sizeof *r);
        memcpy(r->key, key, klen);
        r->key_len = (uint8_t)klen;
        uint32_t flags = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) ? nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) : 0;
        r->is_end = (flags & NFT_SET_ELEM_INTERVAL_END) != 0;
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT)) r->timeout_ms = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT);
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
            r->expires_ms = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION);
    }
    nftnl_set_elems_iter_destroy(it);
    nftnl_set_free(s);
    return rc;
}

/// Ascending by key; at the same key an end element sorts first: it closes
/// the range before an adjacent one that starts there.
static int compare_raw(const void *a, const void *b) {
    const struct raw_element *x = a, *y = b;
    int c = memcmp(x->key, y->key, x->key_len < y->key_len ? x->key_len : y->key_len);
    if (c) return c;
    return (int)y->is_end - (int)x->is_end;
}

int socfw_nftset_list(socfw_nftset *h, uint32_t family, const char *table, const char *set,
                      struct socfw_nftset_range **out, size_t *count, char *errbuf, size_t errlen) {
    if (errbuf && errlen) errbuf[0] = 0;
    *out = NULL;
    *count = 0;
    const char *fam = family_name(family);
    int rc = reserve(h, MNL_SOCKET_BUFFER_SIZE);
    if (rc) return fail(errbuf, errlen, -rc, "listing set %s %s %s", fam, table, set);
    struct raw_list raw = {0};
    for (int attempt = 0;; attempt++) {
        raw.count = 0;
        struct nftnl_set *s = nftnl_set_alloc();
        if (!s) { free(raw.items); return fail(errbuf, errlen, ENOMEM, "listing set %s %s %s", fam, table, set); }
        nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
        nftnl_set_set_str(s, NFTNL_SET_NAME, set);
        struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(h->buf, NFT_MSG_GETSETELEM, family, NLM_F_DUMP, h->seq++);
        nftnl_set_elems_nlmsg_build_payload(nlh, s);
        nftnl_set_free(s);
        rc = request(h, nlh, on_elements, &raw);
        if (rc != -EINTR || attempt + 1 >= MAX_DUMP_RESTARTS) break;  // the set changed during the dump: again
    }
    if (rc < 0) {
        free(raw.items);
        return fail(errbuf, errlen, -rc, "listing set %s %s %s", fam, table, set);
    }
    qsort(raw.items, raw.count, sizeof *raw.items, compare_raw);
    struct socfw_nftset_range *ranges = calloc(raw.count ? raw.count : 1, sizeof *ranges);
    if (!ranges) { free(raw.items); return fail(errbuf, errlen, ENOMEM, "listing set %s %s %s", fam, table, set); }
    size_t n = 0;
    struct socfw_nftset_range *open = NULL;  // a start still waiting for its end
    for (size_t i = 0; i < raw.count; i++) {
        const struct raw_element *e = &raw.items[i];
        if (e->is_end) {
            if (open) {
                memcpy(open->end, e->key, e->key_len);
                open->open_end = 0;
                open = NULL;
            }  // else a lone end element (nft writes one at the lowest address): no range
            continue;
        }
        open = &ranges[n++];
        memcpy(open->start, e->key, e->key_len);
        open->key_len = e->key_len;
        open->open_end = 1;  // until an end element closes it
        open->timeout_ms = e->timeout_ms;
        open->expires_ms = e->expires_ms;
    }
    free(raw.items);
    *out = ranges;
    *count = n;
    return 0;
}

void socfw_nftset_free(struct socfw_nftset_range *ranges) { free(ranges); }
