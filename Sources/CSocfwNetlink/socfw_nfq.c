// NFQUEUE through the libmnl-based libnetfilter_queue API (nfq_nlmsg_*).
// See libnetfilter_queue's examples/nf-queue.c and the kernel's
// net/netfilter/nfnetlink_queue.c for the message formats used here.
#define _GNU_SOURCE
#include "socfw_netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

struct socfw_nfq {
    struct mnl_socket *nl;
    uint32_t portid;
    uint16_t queue_num;
    uint32_t max_message;  // largest message one recv can return
    uint32_t max_batch;
    uint8_t *arena;        // max_batch slots of max_message bytes
    struct mmsghdr *msgs;
    struct iovec *iovs;
    uint8_t *send_buf;
    size_t send_size;
};

static int send_config(socfw_nfq *q, struct nlmsghdr *nlh, char *errbuf, size_t errlen, const char *what) {
    nlh->nlmsg_flags |= NLM_F_ACK;
    nlh->nlmsg_seq = (uint32_t)time(NULL);
    if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0) {
        snprintf(errbuf, errlen, "queue %u: sending %s: %s", q->queue_num, what, strerror(errno));
        return -1;
    }
    char buf[MNL_SOCKET_BUFFER_SIZE];
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(q->nl, buf, sizeof buf);
        if (n < 0) {
            snprintf(errbuf, errlen, "queue %u: reading answer to %s: %s", q->queue_num, what, strerror(errno));
            return -1;
        }
        int r = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, q->portid, NULL, NULL);
        if (r < 0) {
            int e = errno;
            if (e == EBUSY || e == EPERM)
                snprintf(errbuf, errlen, "queue %u: %s refused: %s (is another program bound to this queue?)",
                         q->queue_num, what, strerror(e));
            else
                snprintf(errbuf, errlen, "queue %u: %s refused by the kernel: %s", q->queue_num, what, strerror(e));
            return -1;
        }
        if (r == MNL_CB_STOP) return 0;
    }
}

socfw_nfq *socfw_nfq_open(const struct socfw_nfq_config *c, int receive_timeout_ms, char *errbuf, size_t errlen) {
    socfw_nfq *q = calloc(1, sizeof *q);
    if (!q) { snprintf(errbuf, errlen, "out of memory"); return NULL; }
    q->queue_num = c->queue_num;
    uint32_t copy = c->copy_range ? c->copy_range : 0xffff;
    // With GSO the kernel may hand us up to 64 KiB regardless of MTU.
    q->max_message = (copy > 0xffff ? copy : 0xffff) + 4096;
    q->max_batch = c->max_batch ? c->max_batch : 1;
    // Pages of the arena are only touched as large messages arrive.
    q->arena = malloc((size_t)q->max_batch * q->max_message);
    q->msgs = calloc(q->max_batch, sizeof *q->msgs);
    q->iovs = calloc(q->max_batch, sizeof *q->iovs);
    q->send_size = 64 * 1024;
    q->send_buf = malloc(q->send_size);
    q->nl = mnl_socket_open(NETLINK_NETFILTER);
    if (!q->arena || !q->msgs || !q->iovs || !q->send_buf || !q->nl) {
        snprintf(errbuf, errlen, "queue %u: opening netlink socket: %s", c->queue_num, strerror(errno));
        socfw_nfq_close(q);
        return NULL;
    }
    if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        snprintf(errbuf, errlen, "queue %u: binding netlink socket: %s", c->queue_num, strerror(errno));
        socfw_nfq_close(q);
        return NULL;
    }
    q->portid = mnl_socket_get_portid(q->nl);
    int fd = mnl_socket_get_fd(q->nl);
    int one = 1;
    // Without this a full socket buffer turns into ENOBUFS on recv and the
    // lost packets sit in the kernel queue; the kernel's queue counters
    // (/proc/net/netfilter/nfnetlink_queue) still count them.
    setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
    struct timeval tv = {.tv_sec = receive_timeout_ms / 1000, .tv_usec = (receive_timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (c->receive_buffer_bytes > 0) {
        int size = c->receive_buffer_bytes;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }

    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, c->queue_num);
    nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
    if (send_config(q, nlh, errbuf, errlen, "bind") < 0) { socfw_nfq_close(q); return NULL; }

    nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, c->queue_num);
    nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)copy);
    if (c->max_length) nfq_nlmsg_cfg_put_qmaxlen(nlh, c->max_length);
    uint32_t flags = (c->fail_open ? NFQA_CFG_F_FAIL_OPEN : 0) | (c->gso ? NFQA_CFG_F_GSO : 0);
    uint32_t mask = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO;
    mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
    mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(mask));
    if (send_config(q, nlh, errbuf, errlen, "configuration") < 0) { socfw_nfq_close(q); return NULL; }
    return q;
}

void socfw_nfq_close(socfw_nfq *q) {
    if (!q) return;
    if (q->nl) {
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->queue_num);
        nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_UNBIND);
        mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len);
        mnl_socket_close(q->nl);
    }
    free(q->arena);
    free(q->msgs);
    free(q->iovs);
    free(q->send_buf);
    free(q);
}

static int parse_packet(const struct nlmsghdr *nlh, struct socfw_packet *p) {
    struct nlattr *attr[NFQA_MAX + 1] = {0};
    if (nfq_nlmsg_parse(nlh, attr) < 0) return -1;
    if (!attr[NFQA_PACKET_HDR]) return -1;
    const struct nfqnl_msg_packet_hdr *ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
    memset(p, 0, sizeof *p);
    p->id = ntohl(ph->packet_id);
    p->hw_protocol = ntohs(ph->hw_protocol);
    p->hook = ph->hook;
    if (attr[NFQA_PAYLOAD]) {
        p->payload = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
        p->payload_len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
    }
    p->wire_len = attr[NFQA_CAP_LEN] ? ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN])) : p->payload_len;
    if (attr[NFQA_MARK]) p->mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
    if (attr[NFQA_IFINDEX_INDEV]) p->indev = ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_INDEV]));
    if (attr[NFQA_IFINDEX_OUTDEV]) p->outdev = ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_OUTDEV]));
    if (attr[NFQA_IFINDEX_PHYSINDEV]) p->physindev = ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_PHYSINDEV]));
    if (attr[NFQA_IFINDEX_PHYSOUTDEV]) p->physoutdev = ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_PHYSOUTDEV]));
    if (attr[NFQA_SKB_INFO]) p->skbinfo = ntohl(mnl_attr_get_u32(attr[NFQA_SKB_INFO]));
    if (attr[NFQA_HWADDR]) {
        const struct nfqnl_msg_packet_hw *hw = mnl_attr_get_payload(attr[NFQA_HWADDR]);
        uint16_t len = ntohs(hw->hw_addrlen);
        if (len > 8) len = 8;
        p->hwaddr_len = (uint8_t)len;
        memcpy(p->hwaddr, hw->hw_addr, len);
    }
    return 0;
}

int socfw_nfq_receive(socfw_nfq *q, struct socfw_packet *packets, int max, uint64_t *netlink_errors) {
    int fd = mnl_socket_get_fd(q->nl);
    if (max > (int)q->max_batch) max = (int)q->max_batch;
    for (int i = 0; i < max; i++) {
        q->iovs[i].iov_base = q->arena + (size_t)i * q->max_message;
        q->iovs[i].iov_len = q->max_message;
        memset(&q->msgs[i], 0, sizeof q->msgs[i]);
        q->msgs[i].msg_hdr.msg_iov = &q->iovs[i];
        q->msgs[i].msg_hdr.msg_iovlen = 1;
    }
    // MSG_WAITFORONE: block (up to SO_RCVTIMEO) for the first datagram, then
    // take only what is already queued: one system call per batch.
    int got = recvmmsg(fd, q->msgs, (unsigned)max, MSG_WAITFORONE, NULL);
    if (got < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
        if (errno == ENOBUFS) { (*netlink_errors)++; return 0; }
        return -errno;
    }
    int count = 0;
    for (int m = 0; m < got; m++) {
        // A datagram may carry several messages; walk them all.
        struct nlmsghdr *nlh = (struct nlmsghdr *)q->iovs[m].iov_base;
        int len = (int)q->msgs[m].msg_len;
        while (mnl_nlmsg_ok(nlh, len)) {
            if (nlh->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
                if (e->error != 0) (*netlink_errors)++;
            } else if ((nlh->nlmsg_type & 0xff) == NFQNL_MSG_PACKET && count < max) {
                if (parse_packet(nlh, &packets[count]) == 0) count++;
                else (*netlink_errors)++;
            }
            nlh = mnl_nlmsg_next(nlh, &len);
        }
    }
    return count;
}

static struct nlmsghdr *put_verdict(socfw_nfq *q, size_t *off, int type, uint32_t id, uint32_t verdict,
                                    uint32_t mark, int set_mark) {
    struct nlmsghdr *nlh = nfq_nlmsg_put((char *)q->send_buf + *off, type, q->queue_num);
    nfq_nlmsg_verdict_put(nlh, (int)id, (int)verdict);
    if (set_mark) nfq_nlmsg_verdict_put_mark(nlh, mark);
    *off += NLMSG_ALIGN(nlh->nlmsg_len);
    return nlh;
}

int socfw_nfq_send_verdicts(socfw_nfq *q, const uint32_t *ids, const uint32_t *verdicts, const uint32_t *marks,
                            const uint8_t *set_mark, int n, int batch) {
    size_t off = 0;
    int messages = 0;
    int i = 0;
    // One verdict message is well under 64 bytes; flush before the buffer fills.
    const size_t per_message = 64;
    while (i < n) {
        int j = i;
        if (batch) {
            while (j + 1 < n && verdicts[j + 1] == verdicts[i] && set_mark[j + 1] == set_mark[i] &&
                   (!set_mark[i] || marks[j + 1] == marks[i]))
                j++;
        }
        if (off + per_message > q->send_size) {
            if (mnl_socket_sendto(q->nl, q->send_buf, off) < 0) return -errno;
            off = 0;
        }
        // NFQNL_MSG_VERDICT_BATCH applies to every queued packet whose id is
        // <= the given id, so it is only used for a run that ends the
        // packets already verdicted in order.
        int type = (j > i) ? NFQNL_MSG_VERDICT_BATCH : NFQNL_MSG_VERDICT;
        put_verdict(q, &off, type, ids[j], verdicts[i], marks[i], set_mark[i]);
        messages++;
        i = j + 1;
    }
    if (off > 0 && mnl_socket_sendto(q->nl, q->send_buf, off) < 0) return -errno;
    return messages;
}
