//! The Docker Engine era a run follows. Every behaviour that differs between engine releases
//! is decided here, as a method of [`Era`], so the rest of the model asks the era instead of
//! hard-coding a release.
//!
//! * [`Era::V29`] (the default): v29.x, moby's master at the time (docs/docker-model.md).
//! * [`Era::V20_10`]: Docker Engine 20.10.24, as recorded from a real daemon (fixtures and
//!   how they were taken: `docker/testdata/engine-20.10/README.md`; differences:
//!   docs/docker-model.md *The 20.10 era*).
//!
//! A scenario picks the era with `engine: (version: "20.10", mtu: 1400)` ([`EngineSpec`]).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::engine::SimTime;

/// An engine release whose networking netsim reproduces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Era {
    /// Docker Engine v29.x.
    #[default]
    V29,
    /// Docker Engine 20.10.24.
    V20_10,
}

/// How the bridge driver lays out its iptables rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IptablesLayout {
    /// v28.0.1+: DOCKER-FORWARD / DOCKER-CT / DOCKER-BRIDGE / DOCKER-INTERNAL and the raw-table
    /// direct-access drops (docs/docker-model.md *iptables, v29*).
    V29,
    /// ≤ v27: FORWARD rules per bridge, newest first, DOCKER-ISOLATION-STAGE-1/2
    /// (docs/docker-model.md *iptables, classic (v27 and earlier)*; fixtures
    /// `lab*-host-iptables-save*.txt`).
    Classic,
}

/// The gap between dockerd's unsolicited ARPs (LN/osl/interface_linux.go advertiseAddrs);
/// only eras that send them ([`Era::unsolicited_arps`] > 0) schedule any.
pub const UNSOLICITED_ARP_GAP: SimTime = SimTime::from_secs(1);

impl Era {
    /// The versions a scenario may name, as it spells them.
    pub const SUPPORTED: [&'static str; 2] = ["29", "20.10"];

    /// `"29"` / `"20.10"` (also `"29.x.y"`, `"20.10.z"`).
    pub fn parse(s: &str) -> Option<Era> {
        let s = s.trim().trim_start_matches('v');
        let under = |major: &str| s == major || s.strip_prefix(major).is_some_and(|rest| rest.starts_with('.'));
        if under("20.10") {
            Some(Era::V20_10)
        } else if under("29") {
            Some(Era::V29)
        } else {
            None
        }
    }

    /// The version as a scenario writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Era::V29 => "29",
            Era::V20_10 => "20.10",
        }
    }

    /// Container MACs on bridge and macvlan networks: v28+ draw them at random; ≤ v27 derive them
    /// from the IP (`02:42:ac:11:00:02` for 172.17.0.2; fixtures `lab1-*`, `lab6-*`). Overlay MACs
    /// are IP-derived in every era (LN/drivers/overlay/ov_endpoint.go).
    pub fn container_mac_from_ip(self) -> bool {
        self == Era::V20_10
    }

    /// The MAC of an endpoint with address `ip`; `random` is the draw v28+ uses (drawn in
    /// every era, so the RNG stream does not depend on it).
    pub fn container_mac(self, ip: std::net::Ipv4Addr, random: [u8; 6]) -> crate::wire::Mac {
        if self.container_mac_from_ip() {
            let o = ip.octets();
            crate::wire::Mac([0x02, 0x42, o[0], o[1], o[2], o[3]])
        } else {
            crate::wire::Mac(random)
        }
    }

    /// v28+: after configuring an interface, dockerd announces its address with this many
    /// broadcast ARP requests (sender IP = target IP = own IP), [`UNSOLICITED_ARP_GAP`] apart.
    /// ≤ v27 sends none: a 20.10.24 container is silent until it has something to send.
    pub fn unsolicited_arps(self) -> u32 {
        match self {
            Era::V29 => 3,
            Era::V20_10 => 0,
        }
    }

    pub fn iptables_layout(self) -> IptablesLayout {
        match self {
            Era::V29 => IptablesLayout::V29,
            Era::V20_10 => IptablesLayout::Classic,
        }
    }

    /// The chain the routing mesh's filter jump to DOCKER-INGRESS sits in: DOCKER-FORWARD
    /// from v28.0.1, FORWARD before.
    pub fn ingress_jump_chain(self) -> &'static str {
        match self {
            Era::V29 => "DOCKER-FORWARD",
            Era::V20_10 => "FORWARD",
        }
    }

    /// ≤ v26: dynamic subnets are taken round-robin through the predefined pools, starting
    /// after the last allocation (a freed subnet is not reused at once); v27+ take the lowest
    /// free one (docs/docker-model.md *Picking a subnet*).
    pub fn round_robin_subnets(self) -> bool {
        self == Era::V20_10
    }

    /// The daemon's version as `docker node ls` prints it, where an engine of the era was
    /// recorded (Debian's docker.io 20.10.24); `None` for v29, of which none was.
    pub fn engine_version(self) -> Option<&'static str> {
        (self == Era::V20_10).then_some("20.10.24+dfsg1")
    }

    /// Whether `docker network inspect` prints `EnableIPv4` (v28+).
    pub fn inspect_enable_ipv4(self) -> bool {
        self == Era::V29
    }
}

impl std::fmt::Display for Era {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The message of an unknown version; `scenario` finds it to give its hint.
pub const UNKNOWN_VERSION: &str = "unknown Docker Engine version";

impl Serialize for Era {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Era {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Era, D::Error> {
        let s = String::deserialize(d)?;
        Era::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{UNKNOWN_VERSION} `{s}` (supported: {})",
                Era::SUPPORTED.map(|v| format!("\"{v}\"")).join(", ")
            ))
        })
    }
}

/// The daemon every Docker host of a scenario runs: its release and its `--mtu`
/// (daemon.json `"mtu"`), which applies to the default bridge docker0 and its veths only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSpec {
    #[serde(default)]
    pub version: Era,
    #[serde(default = "default_mtu")]
    pub mtu: u32,
}

fn default_mtu() -> u32 {
    crate::kernel::defaults::MTU
}

impl Default for EngineSpec {
    fn default() -> Self {
        EngineSpec { version: Era::V29, mtu: default_mtu() }
    }
}

#[cfg(test)]
mod tests;
