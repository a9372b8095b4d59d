// Peer credentials and accept for the control socket (Linux: SO_PEERCRED,
// SO_PEERGROUPS, accept4 need _GNU_SOURCE, which Swift's Glibc lacks).
#define _GNU_SOURCE
#include <errno.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "socfw_netlink.h"

int socfw_control_accept(int listener) {
    int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    return fd >= 0 ? fd : -errno;
}

int socfw_control_peer(int fd, struct socfw_peer *out) {
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -errno;
    out->pid = cred.pid;
    out->uid = cred.uid;
    out->gid = cred.gid;
    len = sizeof(out->groups);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, out->groups, &len) == 0) {
        out->ngroups = (int)(len / sizeof(gid_t));
    } else {
        // More than SOCFW_MAX_PEER_GROUPS groups (ERANGE), or an old kernel:
        // only the primary group counts.
        out->ngroups = 0;
    }
    return 0;
}
