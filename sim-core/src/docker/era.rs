//! The Docker Engine era netsim follows: **v29.x** (the facts sheet's HEAD, after v29.7).
//! Every behaviour that differs between engine releases is decided here, so a course on an
//! older engine changes one file. The daemon on our own machines is 20.10 (see the facts
//! sheet and issue 6), which differs in all of these.

use crate::engine::SimTime;

/// Printed by `docker version` in a scenario; the era's line.
pub const ENGINE_VERSION: &str = "29.0";

/// Container MACs on bridge and macvlan networks: v28+ draw them at random; ≤ v27 derived
/// them from the IP (`02:42:ac:11:00:02` for 172.17.0.2). Overlay MACs are IP-derived in
/// every era (LN/drivers/overlay/ov_endpoint.go).
pub const CONTAINER_MAC_FROM_IP: bool = false;

/// v28+: after configuring an interface, dockerd announces its address with broadcast ARP
/// requests (sender IP = target IP = own IP), `UNSOLICITED_ARPS` of them `UNSOLICITED_ARP_GAP`
/// apart (LN/osl/interface_linux.go advertiseAddrs). ≤ v27 sends none.
pub const UNSOLICITED_ARPS: u32 = 3;
pub const UNSOLICITED_ARP_GAP: SimTime = SimTime::from_secs(1);

/// The iptables layout: v29's DOCKER-FORWARD / DOCKER-CT / DOCKER-BRIDGE / DOCKER-INTERNAL
/// chains and raw-table direct-access drops (facts sheet §2.3), written by `bridge::compile`;
/// ≤ v27 used DOCKER-ISOLATION-STAGE-1/2 (§2.4), which netsim does not produce.
pub const IPTABLES_LAYOUT: &str = "v29";

/// The routing mesh's filter jump sits in DOCKER-FORWARD (v28.0.1+), not in FORWARD.
pub const INGRESS_JUMP_CHAIN: &str = "DOCKER-FORWARD";

/// The MAC of an endpoint with address `ip`, as this era makes it.
pub fn container_mac(ip: std::net::Ipv4Addr, random: [u8; 6]) -> crate::wire::Mac {
    if CONTAINER_MAC_FROM_IP {
        let o = ip.octets();
        crate::wire::Mac([0x02, 0x42, o[0], o[1], o[2], o[3]])
    } else {
        crate::wire::Mac(random)
    }
}
