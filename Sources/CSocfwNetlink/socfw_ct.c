// ctnetlink DESTROY events: how socfwd learns that the kernel ended a flow it
// had bypassed (its packets no longer reach the queues). Message layout: the
// kernel's net/netfilter/nf_conntrack_netlink.c (ctnetlink_conntrack_event).
#define _GNU_SOURCE
#include "socfw_netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

struct socfw_ct {
    struct mnl_socket *nl;
    char buf[65536];  // several destroy events per datagram
};

socfw_ct *socfw_ct_events_open(int receive_timeout_ms, char *errbuf, size_t errlen) {
    socfw_ct *ct = calloc(1, sizeof *ct);
    if (!ct) { snprintf(errbuf, errlen, "out of memory"); return NULL; }
    ct->nl = mnl_socket_open(NETLINK_NETFILTER);
    if (!ct->nl || mnl_socket_bind(ct->nl, 1u << (NFNLGRP_CONNTRACK_DESTROY - 1), MNL_SOCKET_AUTOPID) < 0) {
        snprintf(errbuf, errlen, "subscribing to conntrack destroy events: %s", strerror(errno));
        socfw_ct_events_close(ct);
        return NULL;
    }
    int fd = mnl_socket_get_fd(ct->nl);
    struct timeval tv = {.tv_sec = receive_timeout_ms / 1000, .tv_usec = (receive_timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int size = 4 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    return ct;
}

void socfw_ct_events_close(socfw_ct *ct) {
    if (!ct) return;
    if (ct->nl) mnl_socket_close(ct->nl);
    free(ct);
}

static int collect(const struct nlattr *attr, void *data) {
    const struct nlattr **tb = data;
    int type = mnl_attr_get_type(attr);
    if (type <= CTA_MAX) tb[type] = attr;  // CTA_MAX bounds every nest read below
    return MNL_CB_OK;
}

static void read_tuple(const struct nlattr *tuple, struct socfw_ct_event *e) {
    const struct nlattr *t[CTA_MAX + 1] = {0};
    mnl_attr_parse_nested(tuple, collect, t);
    if (t[CTA_TUPLE_IP]) {
        const struct nlattr *ip[CTA_MAX + 1] = {0};
        mnl_attr_parse_nested(t[CTA_TUPLE_IP], collect, ip);
        if (ip[CTA_IP_V4_SRC] && ip[CTA_IP_V4_DST] && mnl_attr_get_payload_len(ip[CTA_IP_V4_SRC]) == 4) {
            e->family = 2;
            memcpy(e->source, mnl_attr_get_payload(ip[CTA_IP_V4_SRC]), 4);
            memcpy(e->destination, mnl_attr_get_payload(ip[CTA_IP_V4_DST]), 4);
        } else if (ip[CTA_IP_V6_SRC] && ip[CTA_IP_V6_DST] && mnl_attr_get_payload_len(ip[CTA_IP_V6_SRC]) == 16) {
            e->family = 10;
            memcpy(e->source, mnl_attr_get_payload(ip[CTA_IP_V6_SRC]), 16);
            memcpy(e->destination, mnl_attr_get_payload(ip[CTA_IP_V6_DST]), 16);
        }
    }
    if (t[CTA_TUPLE_PROTO]) {
        const struct nlattr *p[CTA_MAX + 1] = {0};
        mnl_attr_parse_nested(t[CTA_TUPLE_PROTO], collect, p);
        if (p[CTA_PROTO_NUM]) e->protocol = mnl_attr_get_u8(p[CTA_PROTO_NUM]);
        if (p[CTA_PROTO_SRC_PORT]) e->source_port = ntohs(mnl_attr_get_u16(p[CTA_PROTO_SRC_PORT]));
        if (p[CTA_PROTO_DST_PORT]) e->destination_port = ntohs(mnl_attr_get_u16(p[CTA_PROTO_DST_PORT]));
    }
}

int socfw_ct_events_receive(socfw_ct *ct, struct socfw_ct_event *events, int max) {
    ssize_t n = mnl_socket_recvfrom(ct->nl, ct->buf, sizeof ct->buf);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
        return -errno;
    }
    int count = 0;
    int len = (int)n;
    const struct nlmsghdr *nlh = (const struct nlmsghdr *)ct->buf;
    while (mnl_nlmsg_ok(nlh, len) && count < max) {
        if (NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_CTNETLINK &&
            NFNL_MSG_TYPE(nlh->nlmsg_type) == IPCTNL_MSG_CT_DELETE) {
            const struct nlattr *tb[CTA_MAX + 1] = {0};
            mnl_attr_parse(nlh, sizeof(struct nfgenmsg), collect, tb);
            if (tb[CTA_TUPLE_ORIG]) {
                struct socfw_ct_event *e = &events[count];
                memset(e, 0, sizeof *e);
                read_tuple(tb[CTA_TUPLE_ORIG], e);
                if (tb[CTA_MARK]) e->mark = ntohl(mnl_attr_get_u32(tb[CTA_MARK]));
                if (e->family) count++;
            }
        }
        nlh = mnl_nlmsg_next(nlh, &len);
    }
    return count;
}
