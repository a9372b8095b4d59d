// The one nftables rule that nft's language cannot express on kernels without
// the native `queue` expression: the xtables NFQUEUE target through
// nft_compat (what iptables-nft emits). Built with libnftnl, sent in one
// netlink batch (a transaction) with libmnl.
#define _GNU_SOURCE
#include "socfw_netlink.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <libnftnl/batch.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

static void add_mark_is_zero(struct nftnl_rule *r, uint32_t mask) {
    struct nftnl_expr *e = nftnl_expr_alloc("meta");
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_MARK);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
    nftnl_rule_add_expr(r, e);

    uint32_t zero = 0;
    e = nftnl_expr_alloc("bitwise");
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof(uint32_t));
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof mask);  // register data: host order, as nft emits for meta mark
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof zero);
    nftnl_rule_add_expr(r, e);

    e = nftnl_expr_alloc("cmp");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
    nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &zero, sizeof zero);
    nftnl_rule_add_expr(r, e);
}

int socfw_nft_add_queue_rule(uint32_t family, const char *table, const char *chain, uint16_t first,
                             uint16_t total, int bypass, int fanout, uint32_t mark_mask, int native) {
    struct nftnl_rule *r = nftnl_rule_alloc();
    if (!r) return -ENOMEM;
    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
    nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, family);
    if (mark_mask) add_mark_is_zero(r, mark_mask);

    struct xt_NFQ_info_v3 *info = NULL;
    struct nftnl_expr *e;
    if (native) {
        e = nftnl_expr_alloc("queue");
        nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, first);
        nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_TOTAL, total);
        nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS,
                           (bypass ? NFT_QUEUE_FLAG_BYPASS : 0) | (fanout ? NFT_QUEUE_FLAG_CPU_FANOUT : 0));
    } else {
        info = calloc(1, sizeof *info);
        if (!info) { nftnl_rule_free(r); return -ENOMEM; }
        info->queuenum = first;
        info->queues_total = total;
        info->flags = (bypass ? NFQ_FLAG_BYPASS : 0) | (fanout ? NFQ_FLAG_CPU_FANOUT : 0);
        e = nftnl_expr_alloc("target");
        nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, "NFQUEUE");
        nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 3);
        nftnl_expr_set(e, NFTNL_EXPR_TG_INFO, info, sizeof *info);  // libnftnl takes ownership of info
    }
    nftnl_rule_add_expr(r, e);

    size_t bufsize = MNL_SOCKET_BUFFER_SIZE * 2;
    char *buf = malloc(bufsize);
    uint32_t seq = (uint32_t)time(NULL);
    struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, bufsize);
    nftnl_batch_begin(mnl_nlmsg_batch_current(b), seq++);
    mnl_nlmsg_batch_next(b);
    uint32_t rule_seq = seq;
    struct nlmsghdr *nlh = nftnl_rule_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), NFT_MSG_NEWRULE, family,
                                                      NLM_F_APPEND | NLM_F_CREATE | NLM_F_ACK, seq++);
    nftnl_rule_nlmsg_build_payload(nlh, r);
    mnl_nlmsg_batch_next(b);
    nftnl_batch_end(mnl_nlmsg_batch_current(b), seq++);
    mnl_nlmsg_batch_next(b);

    int result = 0;
    struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
    if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        result = -errno;
    } else if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) < 0) {
        result = -errno;
    } else {
        uint32_t portid = mnl_socket_get_portid(nl);
        char rbuf[MNL_SOCKET_BUFFER_SIZE];
        ssize_t n = mnl_socket_recvfrom(nl, rbuf, sizeof rbuf);
        while (n > 0) {
            int r2 = mnl_cb_run(rbuf, (size_t)n, rule_seq, portid, NULL, NULL);
            if (r2 < 0) { result = -errno; break; }
            if (r2 == MNL_CB_STOP) break;
            n = mnl_socket_recvfrom(nl, rbuf, sizeof rbuf);
        }
        if (n < 0) result = -errno;
    }
    if (nl) mnl_socket_close(nl);
    mnl_nlmsg_batch_stop(b);
    free(buf);
    nftnl_rule_free(r);
    return result;
}
