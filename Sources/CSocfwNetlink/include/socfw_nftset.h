// Elements of nftables interval sets over netlink (libnftnl on libmnl): the
// kernel pushdown of quarantine and blocklist entries. Everything that
// decides (which prefixes, merging, what a failure means) lives in Swift
// (SocfwKernel/NftSets.swift); this layer only speaks the protocol.
//
// How an interval set holds a range (what nft itself sends, and what the
// kernel's nft_set_rbtree expects): a start element whose key is the first
// address, and an end element flagged NFT_SET_ELEM_INTERVAL_END whose key is
// the first address AFTER the range. A range that runs to the last address
// of the space has no end element; nft marks its start element with the
// "interval open" user-data flag, which we copy so `nft list` prints it
// right. Timeouts ride on the start element; the kernel's garbage collector
// removes the end element with it.
#ifndef SOCFW_NFTSET_H
#define SOCFW_NFTSET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// What to do with a range in socfw_nftset_apply().
enum {
    SOCFW_NFTSET_ADD = 0,     // NFT_MSG_NEWSETELEM (without NLM_F_EXCL: an identical range is not an error)
    SOCFW_NFTSET_DELETE = 1,  // NFT_MSG_DELSETELEM (the exact range must be in the set)
};

/// One range of an interval set: [start, end), where `end` is the first
/// address after the range. Keys are in network byte order, `key_len` bytes
/// used (4 for ipv4_addr, 16 for ipv6_addr).
struct socfw_nftset_range {
    uint8_t start[16];
    uint8_t end[16];           // ignored when open_end is set
    uint8_t key_len;           // 4 or 16
    uint8_t open_end;          // 1: the range runs to the last address (no end element)
    uint8_t op;                // SOCFW_NFTSET_ADD / SOCFW_NFTSET_DELETE (apply only)
    uint8_t reserved;
    uint64_t timeout_ms;       // add: the element's timeout, 0 = none. list: the element's timeout
    uint64_t expires_ms;       // list: milliseconds until the kernel expires it (0 = no timeout)
    int32_t result;            // out (add/delete/apply): 0, or -errno the kernel answered for this range
};

/// What one add/delete/apply call cost and met.
struct socfw_nftset_stats {
    uint32_t batches;          // NFNL_MSG_BATCH_BEGIN..END transactions sent
    uint32_t messages;         // set-element messages sent, over all attempts
    uint32_t failed_messages;  // messages the kernel answered with an error
    uint32_t split_messages;   // multi-range messages retried range by range after an error
    uint32_t rounds;           // attempts (1 when nothing failed)
    int32_t last_errno;        // the last message error (positive errno), 0 if none
};

typedef struct socfw_nftset socfw_nftset;

/// Opens a NETLINK_NETFILTER socket with large buffers (SO_SNDBUFFORCE /
/// SO_RCVBUFFORCE, falling back to the unforced options) and
/// NETLINK_CAP_ACK (error replies do not echo our large messages back).
/// Returns NULL with a message in errbuf on failure. One handle is used by
/// one thread at a time.
socfw_nftset *socfw_nftset_open(char *errbuf, size_t errlen);
void socfw_nftset_close(socfw_nftset *h);

/// Adds (op SOCFW_NFTSET_ADD) and deletes (SOCFW_NFTSET_DELETE) ranges of
/// the interval set FAMILY TABLE SET, in this order, in one netlink batch
/// (one transaction) when everything fits (32 MiB, 1024 messages; more is
/// split into several transactions). Ranges are packed into messages whose
/// element list stays under the 64 KiB netlink attribute limit.
///
/// The kernel applies a batch all or nothing and answers every message. When
/// a message is refused, the batch is resent with that message split into
/// one message per range (the kernel keeps processing a batch after an
/// error, so one attempt finds every bad range), and then once more without
/// the ranges it refused: one bad range never loses the others. Each range's
/// `result` is 0 or the kernel's -errno for it (-EEXIST: overlaps a range
/// in the set; -ENOENT on delete: not in the set; -ENFILE: set full).
///
/// Returns 0 when every range has its result (some may have failed), or
/// -errno with a message in errbuf when the call as a whole failed (socket,
/// send, a batch-level error, or the set does not exist: -ENOENT). `stats`
/// may be NULL.
int socfw_nftset_apply(socfw_nftset *h, uint32_t family, const char *table, const char *set,
                       struct socfw_nftset_range *ranges, size_t n, struct socfw_nftset_stats *stats,
                       char *errbuf, size_t errlen);

/// socfw_nftset_apply with every range's op set to ADD / DELETE.
int socfw_nftset_add(socfw_nftset *h, uint32_t family, const char *table, const char *set,
                     struct socfw_nftset_range *ranges, size_t n, struct socfw_nftset_stats *stats,
                     char *errbuf, size_t errlen);
int socfw_nftset_delete(socfw_nftset *h, uint32_t family, const char *table, const char *set,
                        struct socfw_nftset_range *ranges, size_t n, struct socfw_nftset_stats *stats,
                        char *errbuf, size_t errlen);

/// Dumps the set's elements (NFT_MSG_GETSETELEM, NLM_F_DUMP; restarted when
/// the set changes during the dump) and pairs start and end elements into
/// ranges, sorted by start. Lone end elements (nft writes one at the lowest
/// address) are skipped. On success *out (free with socfw_nftset_free) holds
/// *count ranges. Returns 0 or -errno with a message.
int socfw_nftset_list(socfw_nftset *h, uint32_t family, const char *table, const char *set,
                      struct socfw_nftset_range **out, size_t *count, char *errbuf, size_t errlen);
void socfw_nftset_free(struct socfw_nftset_range *ranges);

/// Removes every element of the set in one transaction (NFT_MSG_DELSETELEM
/// without elements, as `nft flush set` does). Returns 0 or -errno.
int socfw_nftset_flush(socfw_nftset *h, uint32_t family, const char *table, const char *set, char *errbuf,
                       size_t errlen);

/// Looks the set up (NFT_MSG_GETSET): its key length in bytes, NFT_SET_*
/// flags and declared size (0 = unbounded). Returns 0, -ENOENT when the
/// table or set does not exist, or another -errno.
int socfw_nftset_describe(socfw_nftset *h, uint32_t family, const char *table, const char *set,
                          uint32_t *key_len, uint32_t *flags, uint32_t *size, char *errbuf, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
