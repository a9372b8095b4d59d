// AF_PACKET transmit, for bridge-mode REJECT: the kernel's bridge family has
// no `reject` on these kernels and the xtables REJECT target cannot route its
// answer out of an address-less bridge, so socfwd writes the RST / ICMP
// error itself out of the ingress bridge port (what Suricata's reject-dev does).
#define _GNU_SOURCE
#include "socfw_netlink.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int socfw_packet_socket(void) {
    // Protocol 0: a transmit-only socket, it never receives a frame.
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
}

int socfw_packet_send(int fd, uint32_t ifindex, const uint8_t *frame, size_t len) {
    if (len < ETH_HLEN) return -EINVAL;
    struct sockaddr_ll to;
    memset(&to, 0, sizeof to);
    to.sll_family = AF_PACKET;
    to.sll_ifindex = (int)ifindex;
    to.sll_halen = ETH_ALEN;
    memcpy(to.sll_addr, frame, ETH_ALEN);
    ssize_t n = sendto(fd, frame, len, 0, (struct sockaddr *)&to, sizeof to);
    return n < 0 ? -errno : 0;
}

int socfw_interface_hwaddr(uint32_t ifindex, uint8_t out[6]) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    if (!if_indextoname(ifindex, ifr.ifr_name)) { int e = errno; close(fd); return -e; }
    int r = ioctl(fd, SIOCGIFHWADDR, &ifr);
    int e = errno;
    close(fd);
    if (r < 0) return -e;
    memcpy(out, ifr.ifr_hwaddr.sa_data, 6);
    return 0;
}
