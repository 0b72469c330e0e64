//! What a lab teaches and how it is graded, as the instructor writes it in the scenario file:
//! a `lesson` (title, introduction, what to look for), a `note` per step, and `expect`, the
//! checks `netsim check` runs against the lab (`grade`).
//!
//! A check looks at the lab the way a student or a grader at the machine would: a command
//! typed on a host (`docker inspect -f …`, `ip neigh`), a name looked up or a port connected
//! to from a container, a line a program printed, a frame on an interface, a rule's counter,
//! a kernel table. Packet Tracer's Activity Wizard and Kathará's lab checker grade their labs
//! the same way: by what the network does, not by which commands were typed.

use serde::{Deserialize, Serialize};

/// The lesson shown above the hop log and in the GUI's lesson pane.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    pub title: String,
    /// What the lab is about and what the student will do, in a paragraph or two.
    #[serde(default)]
    pub intro: String,
    /// What to look for in the hop log, the capture or the GUI, one item each.
    #[serde(default)]
    pub look_for: Vec<String>,
}

/// One graded expectation.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// What holds when the lab works, as the student reads it in the checklist.
    pub name: String,
    #[serde(default = "one")]
    pub points: u32,
    /// Shown when the check fails: where to look, what to try.
    #[serde(default)]
    pub hint: Option<String>,
    /// Checked once step `after` (counted from 1, as the hop log counts them) has finished,
    /// before the next one starts (after the last step: at the end of the run); by default at
    /// the end of the run. In an exercise checked with the student's commands, every check is
    /// made at the end.
    #[serde(default)]
    pub after: Option<usize>,
    pub check: Check,
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

/// What is checked. `on` names a host (or any namespace by the name `netsim show` takes, such
/// as `node1:ingress_sbox`); `container` a container on that host, by the name or ID prefix
/// `docker exec` takes.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum Check {
    /// `to` (a name or an address) answers from `on`/`container`: a ping without `port`, a
    /// TCP connection to `port` with one. `yes: false` expects it not to.
    Reach {
        on: String,
        #[serde(default)]
        container: Option<String>,
        to: String,
        #[serde(default)]
        port: Option<u16>,
        #[serde(default = "yes")]
        yes: bool,
    },
    /// `nslookup name` from `on`/`container` answers `answer`: one of its addresses, or
    /// `NXDOMAIN` for a name that does not resolve (any error code counts).
    Resolve {
        on: String,
        #[serde(default)]
        container: Option<String>,
        name: String,
        answer: String,
    },
    /// A program printed a line containing `contains` (on `on`'s namespaces: the host and its
    /// containers; anywhere without `on`), at least once, or never with `seen: false`.
    Output {
        #[serde(default)]
        on: Option<String>,
        contains: String,
        #[serde(default = "yes")]
        seen: bool,
    },
    /// Frames leaving an interface (`ns/dev`; `ns` or `ns/*` for all of a namespace's) that
    /// match every field given, in any of their layers (outer or inside VXLAN).
    Frame {
        on: String,
        #[serde(default)]
        container: Option<String>,
        /// A protocol as Wireshark names its layer: `802.1q`, `arp`, `ipv4`, `icmp`, `udp`,
        /// `tcp`, `vxlan`, `dns`, `http`, `mysql`.
        #[serde(default)]
        proto: Option<String>,
        #[serde(default)]
        src: Option<std::net::Ipv4Addr>,
        #[serde(default)]
        dst: Option<std::net::Ipv4Addr>,
        #[serde(default)]
        sport: Option<u16>,
        #[serde(default)]
        dport: Option<u16>,
        #[serde(default)]
        vni: Option<u32>,
        /// An IPv4 layer's total length in bytes (a fragment's own: 1500, 68).
        #[serde(default)]
        len: Option<u16>,
        /// Bytes of the payload, as text (`INSERT`, `GET /`).
        #[serde(default)]
        contains: Option<String>,
        /// At least this many (1 by default); with `seen: false`, none at all.
        #[serde(default)]
        at_least: Option<u32>,
        /// Exactly this many.
        #[serde(default)]
        count: Option<u32>,
        #[serde(default = "yes")]
        seen: bool,
    },
    /// An iptables rule's packet counter (`iptables-save -c`) in `table` (filter by default):
    /// the first rule of `chain` whose `-A` line contains `rule`, or the chain's policy
    /// without `rule`.
    Counter {
        on: String,
        #[serde(default)]
        container: Option<String>,
        #[serde(default)]
        table: Option<String>,
        chain: String,
        #[serde(default)]
        rule: Option<String>,
        #[serde(default = "one_u64")]
        at_least: u64,
    },
    /// A line of a kernel table, as `netsim show` prints it (`neigh`, `fdb`, `route`, `addr`,
    /// `link`, `iptables`, `conntrack`, `ipvs`), has every word of `contains` as a whole word;
    /// with `seen: false`, no line does.
    Table {
        on: String,
        #[serde(default)]
        container: Option<String>,
        show: String,
        contains: String,
        #[serde(default = "yes")]
        seen: bool,
    },
    /// A command typed on `on` (`docker network inspect -f '{{…}}' NET`, `docker ps`, `ip
    /// route`): its output contains `contains`, or equals `equals` (trimmed).
    Command {
        on: String,
        run: String,
        #[serde(default)]
        contains: Option<String>,
        #[serde(default)]
        equals: Option<String>,
    },
}

fn one_u64() -> u64 {
    1
}

/// A question the GUI asks before it goes on (challenge mode).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Quiz {
    pub name: String,
    #[serde(default = "one")]
    pub points: u32,
    /// Asked when step `at_step` (counted from 1) is about to run…
    #[serde(default)]
    pub at_step: Option<usize>,
    /// …or when the first frame matching this leaves its interface, before it is shown.
    #[serde(default)]
    pub frame: Option<FrameFilter>,
    pub ask: Ask,
}

/// What a quiz item asks.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum Ask {
    /// The instructor's question; `answer` counts the choices from 1.
    Choice {
        question: String,
        choices: Vec<String>,
        answer: usize,
        #[serde(default)]
        explain: Option<String>,
    },
    /// "Where does this frame go next?", set and answered by the simulator (`quiz::next_hop`).
    NextHop,
    /// "Which rule decides?", set and answered by the simulator (`quiz::deciding_rule`).
    Rule,
}

/// Frames leaving an interface (`ns/dev`, or every interface of `ns`) that show each field
/// given in some layer.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FrameFilter {
    pub on: String,
    #[serde(default)]
    pub proto: Option<String>,
    #[serde(default)]
    pub src: Option<std::net::Ipv4Addr>,
    #[serde(default)]
    pub dst: Option<std::net::Ipv4Addr>,
    #[serde(default)]
    pub sport: Option<u16>,
    #[serde(default)]
    pub dport: Option<u16>,
    #[serde(default)]
    pub vni: Option<u32>,
    #[serde(default)]
    pub len: Option<u16>,
    #[serde(default)]
    pub contains: Option<String>,
}

impl Check {
    /// The frames a `Frame` check counts.
    pub fn frame_filter(&self) -> Option<FrameFilter> {
        let Check::Frame { on, proto, src, dst, sport, dport, vni, len, contains, .. } = self else { return None };
        Some(FrameFilter {
            on: on.clone(),
            proto: proto.clone(),
            src: *src,
            dst: *dst,
            sport: *sport,
            dport: *dport,
            vni: *vni,
            len: *len,
            contains: contains.clone(),
        })
    }

    /// The host or namespace the check looks at, if it names one.
    pub fn on(&self) -> Option<&str> {
        match self {
            Check::Reach { on, .. }
            | Check::Resolve { on, .. }
            | Check::Frame { on, .. }
            | Check::Counter { on, .. }
            | Check::Table { on, .. }
            | Check::Command { on, .. } => Some(on),
            Check::Output { on, .. } => on.as_deref(),
        }
    }

    /// The kind, as the file spells it.
    pub fn kind(&self) -> &'static str {
        match self {
            Check::Reach { .. } => "Reach",
            Check::Resolve { .. } => "Resolve",
            Check::Output { .. } => "Output",
            Check::Frame { .. } => "Frame",
            Check::Counter { .. } => "Counter",
            Check::Table { .. } => "Table",
            Check::Command { .. } => "Command",
        }
    }
}

/// Words into lines of at most `width` characters (a longer word gets a line of its own);
/// the text's own line breaks are kept.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.lines() {
        let mut line = String::new();
        for word in para.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                out.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push(line);
    }
    out
}
