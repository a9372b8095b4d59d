/*
 * nfq_accept — minimal accept-all NFQUEUE program: the C baseline that socfwd's
 * queue throughput is compared with (Scripts/bench queue).
 *
 * Same netlink features as socfwd: the libmnl-based libnetfilter_queue API
 * (nfq_nlmsg_*), one socket + one pthread per queue, copy mode packet with a
 * small copy range, queue max length, NFQA_CFG_F_FAIL_OPEN (+ GSO),
 * NETLINK_NO_ENOBUFS and a large SO_RCVBUFFORCE. Verdicts are per packet by
 * default (as in libnetfilter_queue's examples/nf-queue.c); -B drains the
 * socket without blocking and answers with one NFQNL_MSG_VERDICT_BATCH.
 *
 *   nfq_accept [-q FIRST] [-n COUNT] [-r COPY_RANGE] [-l MAXLEN]
 *              [-b RCVBUF_BYTES] [-B] [-F]
 *     -F   do NOT set fail-open (fail-closed when the queue is full)
 *
 * Prints "ready ..." on stdout once every queue is bound; SIGTERM/SIGINT stop
 * it cleanly (queues unbound, per-queue packet counts printed).
 *
 * Build: cc -O2 -Wall -o nfq_accept nfq_accept.c -lnetfilter_queue -lmnl -lpthread
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#ifndef NETLINK_NO_ENOBUFS
#define NETLINK_NO_ENOBUFS 5
#endif
#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define MAX_QUEUES 64
#define TX_BUF_SIZE 8192
#define RX_BUF_SIZE (0xffff + 4096)
#define BATCH_MAX 256

struct queue {
    uint16_t num;
    struct mnl_socket *nl;
    uint32_t portid;
    pthread_t thread;
    uint64_t packets;
    uint64_t verdicts_sent;
    uint64_t errors;
    /* batch mode: highest packet id seen since the last verdict */
    uint32_t pending_max_id;
    int pending;
};

static atomic_int stop_flag;
static int opt_batch;

static void die(const char *what, int q)
{
    fprintf(stderr, "nfq_accept: %s (queue %d): %s\n", what, q, strerror(errno));
    exit(1);
}

static int send_verdict(struct queue *q, uint32_t id, int batch)
{
    char buf[TX_BUF_SIZE];
    struct nlmsghdr *nlh =
        nfq_nlmsg_put(buf, batch ? NFQNL_MSG_VERDICT_BATCH : NFQNL_MSG_VERDICT, q->num);
    nfq_nlmsg_verdict_put(nlh, (int)id, NF_ACCEPT);
    if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0) {
        q->errors++;
        return -1;
    }
    q->verdicts_sent++;
    return 0;
}

static int packet_cb(const struct nlmsghdr *nlh, void *data)
{
    struct queue *q = data;
    struct nlattr *attr[NFQA_MAX + 1] = {0};
    struct nfqnl_msg_packet_hdr *ph;
    uint32_t id;

    if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL) {
        q->errors++;
        return MNL_CB_OK;
    }
    ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
    id = ntohl(ph->packet_id);
    q->packets++;
    if (opt_batch) {
        if (!q->pending || (int32_t)(id - q->pending_max_id) > 0)
            q->pending_max_id = id;
        q->pending = 1;
    } else {
        send_verdict(q, id, 0);
    }
    return MNL_CB_OK;
}

/* Send a config message and wait for its ACK, answering any packet that
 * arrives meanwhile. Returns 0 or -1 with errno set. */
static int config_request(struct queue *q, struct nlmsghdr *nlh)
{
    static char rx[RX_BUF_SIZE]; /* config runs in main only */
    unsigned int seq = (unsigned int)time(NULL) ^ q->num;
    nlh->nlmsg_flags |= NLM_F_ACK;
    nlh->nlmsg_seq = ++seq;
    if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
        return -1;
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(q->nl, rx, sizeof(rx));
        if (n < 0)
            return -1;
        int r = mnl_cb_run(rx, (size_t)n, seq, q->portid, packet_cb, q);
        if (r == MNL_CB_STOP)
            return 0;     /* ACK */
        if (r == MNL_CB_ERROR)
            return -1;    /* errno from the NLMSG_ERROR */
    }
}

static void bind_queue(struct queue *q, uint32_t copy_range, uint32_t maxlen, int rcvbuf, int fail_open)
{
    char buf[TX_BUF_SIZE];
    struct nlmsghdr *nlh;
    int one = 1;
    uint32_t flags;
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200 * 1000};

    q->nl = mnl_socket_open(NETLINK_NETFILTER);
    if (q->nl == NULL)
        die("mnl_socket_open", q->num);
    if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0)
        die("mnl_socket_bind", q->num);
    q->portid = mnl_socket_get_portid(q->nl);

    int fd = mnl_socket_get_fd(q->nl);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0)
        die("SO_RCVBUF", q->num);
    /* ENOBUFS would only tell us the kernel dropped messages; keep going. */
    if (setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one)) < 0)
        die("NETLINK_NO_ENOBUFS", q->num);
    /* Wake up regularly so SIGTERM is noticed by every worker. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
        die("SO_RCVTIMEO", q->num);

    nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
    nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
    if (config_request(q, nlh) < 0)
        die("bind (is another program bound to this queue?)", q->num);

    nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
    nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)copy_range);
    nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
    flags = NFQA_CFG_F_GSO | (fail_open ? NFQA_CFG_F_FAIL_OPEN : 0);
    mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
    mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
    if (config_request(q, nlh) < 0)
        die("set params/flags", q->num);
}

static void unbind_queue(struct queue *q)
{
    char buf[TX_BUF_SIZE];
    struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
    nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_UNBIND);
    mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len);
    mnl_socket_close(q->nl);
}

static void *worker(void *arg)
{
    struct queue *q = arg;
    char *rx = malloc(RX_BUF_SIZE);
    if (rx == NULL)
        return NULL;
    while (!atomic_load(&stop_flag)) {
        ssize_t n = mnl_socket_recvfrom(q->nl, rx, RX_BUF_SIZE);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ENOBUFS)
                continue;
            q->errors++;
            continue;
        }
        mnl_cb_run(rx, (size_t)n, 0, q->portid, packet_cb, q);
        if (opt_batch) {
            /* Drain what is already queued, then one batch verdict. */
            for (int i = 0; i < BATCH_MAX; i++) {
                n = recv(mnl_socket_get_fd(q->nl), rx, RX_BUF_SIZE, MSG_DONTWAIT);
                if (n <= 0)
                    break;
                mnl_cb_run(rx, (size_t)n, 0, q->portid, packet_cb, q);
            }
            if (q->pending) {
                send_verdict(q, q->pending_max_id, 1);
                q->pending = 0;
            }
        }
    }
    free(rx);
    return NULL;
}

static void usage(void)
{
    fprintf(stderr, "usage: nfq_accept [-q FIRST] [-n COUNT] [-r COPY_RANGE] [-l MAXLEN] "
                    "[-b RCVBUF_BYTES] [-B] [-F]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int first = 0, count = 1, rcvbuf = 8 * 1024 * 1024, fail_open = 1, opt;
    uint32_t copy_range = 128, maxlen = 4096;
    static struct queue queues[MAX_QUEUES];
    sigset_t sigs;
    int sig;

    while ((opt = getopt(argc, argv, "q:n:r:l:b:BFh")) != -1) {
        switch (opt) {
        case 'q': first = atoi(optarg); break;
        case 'n': count = atoi(optarg); break;
        case 'r': copy_range = (uint32_t)strtoul(optarg, NULL, 0); break;
        case 'l': maxlen = (uint32_t)strtoul(optarg, NULL, 0); break;
        case 'b': rcvbuf = atoi(optarg); break;
        case 'B': opt_batch = 1; break;
        case 'F': fail_open = 0; break;
        default: usage();
        }
    }
    if (first < 0 || first > 65535 || count < 1 || count > MAX_QUEUES || first + count - 1 > 65535)
        usage();

    /* Workers inherit a mask with SIGTERM/SIGINT blocked; main waits for them. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    for (int i = 0; i < count; i++) {
        queues[i].num = (uint16_t)(first + i);
        bind_queue(&queues[i], copy_range, maxlen, rcvbuf, fail_open);
    }
    for (int i = 0; i < count; i++)
        if (pthread_create(&queues[i].thread, NULL, worker, &queues[i]) != 0)
            die("pthread_create", queues[i].num);

    printf("ready queues=%d-%d copy_range=%u maxlen=%u fail_open=%d verdicts=%s\n", first,
           first + count - 1, copy_range, maxlen, fail_open, opt_batch ? "batch" : "per-packet");
    fflush(stdout);

    sigwait(&sigs, &sig);
    atomic_store(&stop_flag, 1);
    uint64_t total = 0;
    for (int i = 0; i < count; i++) {
        pthread_join(queues[i].thread, NULL);
        unbind_queue(&queues[i]);
        total += queues[i].packets;
        printf("queue %u: packets=%" PRIu64 " verdict_msgs=%" PRIu64 " errors=%" PRIu64 "\n",
               queues[i].num, queues[i].packets, queues[i].verdicts_sent, queues[i].errors);
    }
    printf("stopped signal=%d packets=%" PRIu64 "\n", sig, total);
    return 0;
}
