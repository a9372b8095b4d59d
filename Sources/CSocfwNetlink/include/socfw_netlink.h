// Thin C layer over libnetfilter_queue (libmnl API), libnftnl and AF_PACKET.
// It exists because these libraries are macro- and struct-heavy; everything
// that decides anything lives in Swift (SocfwKernel / SocfwCore).
#ifndef SOCFW_NETLINK_H
#define SOCFW_NETLINK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Verdict numbers as the kernel defines them (linux/netfilter.h).
enum {
    SOCFW_NF_DROP = 0,
    SOCFW_NF_ACCEPT = 1,
    SOCFW_NF_REPEAT = 4,
};

/// skb info flags (NFQA_SKB_*).
enum {
    SOCFW_SKB_CSUMNOTREADY = 1 << 0,
    SOCFW_SKB_GSO = 1 << 1,
    SOCFW_SKB_CSUM_NOTVERIFIED = 1 << 2,
};

struct socfw_nfq_config {
    uint16_t queue_num;
    uint32_t max_length;       // NFQA_CFG_QUEUE_MAXLEN
    uint32_t copy_range;       // bytes of each packet copied to userspace
    int fail_open;             // NFQA_CFG_F_FAIL_OPEN
    int gso;                   // NFQA_CFG_F_GSO
    int receive_buffer_bytes;  // SO_RCVBUFFORCE (falls back to SO_RCVBUF)
    uint32_t max_batch;        // most packets one socfw_nfq_receive returns
};

/// One queued packet. `payload` points into the queue's receive arena and is
/// valid until the next socfw_nfq_receive() on the same queue.
struct socfw_packet {
    uint32_t id;
    uint16_t hw_protocol;      // ethertype, host order
    uint8_t hook;
    uint8_t hwaddr_len;
    const uint8_t *payload;
    uint32_t payload_len;      // bytes present
    uint32_t wire_len;         // length on the wire (NFQA_CAP_LEN, else payload_len)
    uint32_t mark;
    uint32_t indev, outdev, physindev, physoutdev;
    uint32_t skbinfo;          // SOCFW_SKB_*
    uint8_t hwaddr[8];         // source MAC of the frame, when the kernel gives it
};

typedef struct socfw_nfq socfw_nfq;

/// Opens a netlink socket, binds it to the queue and applies the config.
/// Returns NULL with a message in errbuf on failure.
socfw_nfq *socfw_nfq_open(const struct socfw_nfq_config *config, int receive_timeout_ms, char *errbuf,
                          size_t errlen);
void socfw_nfq_close(socfw_nfq *queue);

/// Waits (up to the receive timeout given at open) for the first packet,
/// then takes what else is ready, up to `max` (<= max_batch) packets, in ONE
/// recvmmsg(MSG_WAITFORONE) call. Returns the number of packets (0 on
/// timeout) or -errno. Netlink error messages are counted in
/// *netlink_errors and skipped.
int socfw_nfq_receive(socfw_nfq *queue, struct socfw_packet *packets, int max, uint64_t *netlink_errors);

/// Sends verdicts for packets[0..<n] in one sendmsg. Runs of consecutive
/// packets with the same verdict and mark are sent as one
/// NFQNL_MSG_VERDICT_BATCH when `batch` is set. set_mark[i] != 0 means
/// "set the packet mark to marks[i]". Returns the number of netlink messages
/// sent, or -errno.
int socfw_nfq_send_verdicts(socfw_nfq *queue, const uint32_t *ids, const uint32_t *verdicts,
                            const uint32_t *marks, const uint8_t *set_mark, int n, int batch);

/// Appends to TABLE/CHAIN (family NFPROTO_*) the rule
///   meta mark & mark_mask == 0  queue num first..first+total-1 [bypass] [fanout]
/// with the native `queue` expression when `native` is set, otherwise with
/// the xtables NFQUEUE target (nft_compat, revision 3). Returns 0 or -errno
/// (the kernel's answer: -ENOENT when the expression is not available).
int socfw_nft_add_queue_rule(uint32_t family, const char *table, const char *chain, uint16_t first,
                             uint16_t total, int bypass, int fanout, uint32_t mark_mask, int native);

/// Writes one Ethernet frame out of ifindex through an AF_PACKET socket.
/// Returns 0 or -errno. `fd` is a socket from socfw_packet_socket().
int socfw_packet_socket(void);
int socfw_packet_send(int fd, uint32_t ifindex, const uint8_t *frame, size_t len);

/// Reads the hardware address of an interface. Returns 0 or -errno.
int socfw_interface_hwaddr(uint32_t ifindex, uint8_t out[6]);

/// A conntrack entry the kernel destroyed (ctnetlink DESTROY event), by its
/// original-direction tuple. Addresses in network byte order; v4 in the first
/// 4 bytes.
struct socfw_ct_event {
    uint8_t family;            // 2 = IPv4, 10 = IPv6
    uint8_t protocol;
    uint16_t source_port;      // host order; 0 without ports
    uint16_t destination_port;
    uint32_t mark;
    uint8_t source[16];
    uint8_t destination[16];
};

typedef struct socfw_ct socfw_ct;

/// Subscribes to conntrack DESTROY events (NFNLGRP_CONNTRACK_DESTROY) of this
/// network namespace. Returns NULL with a message on failure.
socfw_ct *socfw_ct_events_open(int receive_timeout_ms, char *errbuf, size_t errlen);
/// Waits (up to the timeout) for events; returns how many were stored, 0 on
/// timeout, or -errno. -ENOBUFS means events were lost.
int socfw_ct_events_receive(socfw_ct *ct, struct socfw_ct_event *events, int max);
void socfw_ct_events_close(socfw_ct *ct);

// ---- control socket

#define SOCFW_MAX_PEER_GROUPS 256

/// Who is at the other end of a Unix socket (SO_PEERCRED, SO_PEERGROUPS).
struct socfw_peer {
    int32_t pid;
    uint32_t uid, gid;
    int ngroups;
    uint32_t groups[SOCFW_MAX_PEER_GROUPS];
};

/// accept4 with SOCK_CLOEXEC | SOCK_NONBLOCK; the new fd or -errno.
int socfw_control_accept(int listener);
/// 0 or -errno.
int socfw_control_peer(int fd, struct socfw_peer *out);

#ifdef __cplusplus
}
#endif
#endif
