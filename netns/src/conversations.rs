//! The frames each interface sent, conversation by conversation, in the order they left, at
//! the detail `tcpdump -vv` prints: what `netsim diff` holds the simulator to.
//!
//! A conversation is one exchange between two endpoints as one interface saw it: a TCP
//! connection or a UDP flow (its two addresses and ports), a ping (its two addresses and echo
//! id), an ARP exchange (its two addresses). An ICMP error belongs to the conversation of the
//! packet it quotes, a later fragment to that of its first, a VXLAN packet to that of the frame
//! it carries. Within a conversation the order of frames is the protocols' own (a handshake, a
//! retransmission, a FIN) and is compared; between conversations it is the machines' timing,
//! and is not: the i-th conversation of a kind on an interface is paired with the other side's
//! i-th of that kind.
//!
//! What each frame is compared by: the Ethernet addresses, ARP's operation, addresses and
//! answer; IPv4's TOS, TTL, DF and more-fragments flags, fragment offset and total length;
//! TCP's ports, every flag, sequence and acknowledgement numbers, window, options and length;
//! UDP's ports, length and whether it carries a checksum; ICMP's type, code, echo sequence,
//! next-hop MTU, and the header it quotes; VXLAN's VNI and outer ports, and the inner frame in
//! the same detail.
//!
//! Normalised, because each side draws them at random (each is named in the report's
//! summary, [`NORMALISED`]):
//! - ephemeral ports (32768–60999, `ip_local_port_range`), echo ids, fragment ids and MACs
//!   not set by the lab: renamed in each conversation by order of first appearance (`p1`,
//!   `e1`, `f1`, `m1`), so a port kept or changed, one id per ping and the same MAC on every
//!   frame are still compared; VXLAN's outer source port (a hash of the inner flow) is renamed
//!   per conversation across all interfaces (`v1`), so one port for both directions of a
//!   flow, as Linux chooses it for a forwarded one, reads the same on both hosts;
//! - TCP initial sequence numbers: numbers are relative to the first seen in each direction,
//!   acknowledgements and SACK blocks to the first acknowledgement seen (as `tcpdump` prints
//!   them without `-S`);
//! - TCP timestamp values and IPv4 ids of unfragmented packets: left out;
//! - checksums: left out (the kernel captures an outgoing TCP segment before the checksum is
//!   filled in: `CHECKSUM_PARTIAL`), except a UDP checksum of 0, which says none was sent.
//!
//! Left out, each counted and named in the report: IPv6 (the kernel's link-up duplicate
//! address detection, MLD reports and router solicitations; the simulator has no IPv6), IGMP
//! (Linux bridges' multicast snooping, `docs/linux-model.md`) and other ethertypes.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::net::Ipv4Addr;

/// What the report names as normalised, in the words of the module doc.
pub const NORMALISED: &str = "ephemeral ports, VXLAN source ports, echo and fragment ids and drawn MACs renamed per \
                              conversation; TCP sequence numbers relative; TCP timestamps, IP ids and checksums left out";

/// Ephemeral ports Linux draws from (`net.ipv4.ip_local_port_range`, 32768 60999).
fn ephemeral(p: u16) -> bool {
    crate::state::EPHEMERAL_PORTS.contains(&u32::from(p))
}

/// One frame as a backend saw it leave an interface.
#[derive(Clone, Debug)]
struct Sent {
    at_ns: u64,
    bytes: Vec<u8>,
}

#[derive(Clone, Debug, Default)]
struct Conversation {
    /// The exact endpoints, which tell two conversations of one kind apart.
    tuple: String,
    frames: Vec<Sent>,
}

/// (interface, source, destination, protocol, IP id): what ties a fragment to its first.
type FragmentOf = (String, [u8; 4], [u8; 4], u8, u16);

/// The frames of a run, by interface (`ns/if`), then by kind of conversation (its endpoints
/// with ephemeral ports as `*`), then conversation in the order they began.
#[derive(Clone, Debug, Default)]
pub struct Capture {
    ifaces: BTreeMap<String, BTreeMap<String, Vec<Conversation>>>,
    /// (interface, source, destination, protocol, IP id) of a first fragment → its key, for the
    /// fragments that follow it.
    fragments: HashMap<FragmentOf, (String, String)>,
    left_out: BTreeMap<&'static str, usize>,
    /// VXLAN outer source ports by conversation: (sending VTEP, port) → when it first sent
    /// it. Named VTEP by VTEP (in address order), each VTEP's in the order it sent them: the
    /// same port from both hosts reads the same (Linux hashes a forwarded flow's addresses
    /// symmetrically; a local TCP socket's segments carry its own random hash, one per
    /// direction). Not by time across interfaces: the captures of two interfaces do not
    /// share one order.
    vxlan_ports: BTreeMap<String, BTreeMap<(Ipv4Addr, u16), u64>>,
    /// The time of the first frame compared.
    first_ns: Option<u64>,
    /// The time of the last frame captured, in either direction, compared or not.
    last_ns: u64,
    /// When the capture stopped, where the file says (`isb_endtime`): later than the last
    /// frame by however long nothing was sent.
    ended_ns: Option<u64>,
}

impl Capture {
    /// Adds a captured frame if it left its interface (on lo: if it arrived there, as a capture
    /// keeps only that copy).
    pub fn add(&mut self, iface: &str, outgoing: bool, at_ns: u64, frame: &[u8]) {
        self.last_ns = self.last_ns.max(at_ns);
        if !(outgoing || iface.ends_with("/lo")) {
            return;
        }
        let key = match eth_key(frame) {
            Ok(k) => k,
            Err(Skip::Left(why)) => {
                *self.left_out.entry(why).or_default() += 1;
                return;
            }
            Err(Skip::Fragment { src, dst, proto, id }) => {
                match self.fragments.get(&(iface.to_string(), src, dst, proto, id)) {
                    Some(k) => k.clone(),
                    None => (
                        format!("{} {} > {} fragments", proto_name(proto), Ipv4Addr::from(src), Ipv4Addr::from(dst)),
                        format!("id {id}"),
                    ),
                }
            }
        };
        if let Some((src, dst, proto, id)) = first_fragment(frame) {
            self.fragments.insert((iface.to_string(), src, dst, proto, id), key.clone());
        }
        self.first_ns = Some(self.first_ns.map_or(at_ns, |f| f.min(at_ns)));
        let (kind, tuple) = key;
        if let Some(sp) = vxlan_source_port(frame) {
            let first = self.vxlan_ports.entry(kind.clone()).or_default().entry(sp).or_insert(at_ns);
            *first = (*first).min(at_ns);
        }
        let convs = self.ifaces.entry(iface.to_string()).or_default().entry(kind).or_default();
        let sent = Sent { at_ns, bytes: frame.to_vec() };
        match convs.iter_mut().find(|c| c.tuple == tuple) {
            Some(c) => c.frames.push(sent),
            None => convs.push(Conversation { tuple, frames: vec![sent] }),
        }
    }

    /// An empty capture that stopped at `ended_ns` (frames are added to it).
    pub fn ended_at(ended_ns: u64) -> Capture {
        Capture { ended_ns: Some(ended_ns), ..Capture::default() }
    }

    /// A reference trace: a pcapng file the netns backend wrote (`netsim run --backend netns
    /// --pcap`), whose interfaces are named `ns/if` and whose frames say their direction in
    /// `epb_flags`.
    pub fn from_pcapng(path: &std::path::Path) -> Result<Capture, String> {
        let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let sim_core::capture::ReadBack { names, frames, ended_ns } =
            sim_core::capture::read_pcapng_ended(std::io::BufReader::new(file))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        let mut c = Capture { ended_ns, ..Capture::default() };
        for f in &frames {
            let Some(dir) = f.direction else {
                return Err(format!(
                    "{}: frame at {} ns does not say its direction (epb_flags); record the trace with \
                     `netsim run --backend netns --pcap`",
                    path.display(),
                    f.ts_ns
                ));
            };
            let iface = names.get(f.interface_id as usize).map(String::as_str).unwrap_or_default();
            c.add(iface, dir == sim_core::capture::Direction::Outbound, f.ts_ns, &f.data);
        }
        Ok(c)
    }

    /// How many frames are held (left-out ones aside).
    pub fn frames(&self) -> usize {
        self.ifaces.values().flat_map(|k| k.values()).flatten().map(|c| c.frames.len()).sum()
    }

    /// How many conversations are held.
    pub fn conversations(&self) -> usize {
        self.ifaces.values().flat_map(|k| k.values()).map(Vec::len).sum()
    }

    /// When the last frame was captured, in either direction, compared or not.
    pub fn last_ns(&self) -> u64 {
        self.last_ns
    }

    /// The interfaces that sent anything compared.
    pub fn interfaces(&self) -> usize {
        self.ifaces.len()
    }

    /// The VXLAN source ports in the order they were first sent.
    fn vxlan_order(&self, kind: &str) -> Vec<u16> {
        let Some(ports) = self.vxlan_ports.get(kind) else { return Vec::new() };
        let mut v: Vec<(Ipv4Addr, u64, u16)> = ports.iter().map(|((a, p), t)| (*a, *t, *p)).collect();
        v.sort();
        let mut order = Vec::new();
        for (_, _, p) in v {
            nth(&mut order, p);
        }
        order
    }

    /// The frames sent up to `end_ns`, and how many came later.
    fn until(&self, end_ns: u64) -> (Capture, usize) {
        let mut c = self.clone();
        let mut later = 0;
        for convs in c.ifaces.values_mut().flat_map(|k| k.values_mut()) {
            for conv in convs.iter_mut() {
                let before = conv.frames.len();
                conv.frames.retain(|f| f.at_ns <= end_ns);
                later += before - conv.frames.len();
            }
            convs.retain(|conv| !conv.frames.is_empty());
        }
        for kinds in c.ifaces.values_mut() {
            kinds.retain(|_, convs| !convs.is_empty());
        }
        c.ifaces.retain(|_, kinds| !kinds.is_empty());
        (c, later)
    }

    /// Each interface's conversations as lines, normalised: what is compared (for tests and
    /// for reading a capture as the judge reads it).
    pub fn lines(&self) -> BTreeMap<String, Vec<(String, Vec<String>)>> {
        self.ifaces
            .iter()
            .map(|(i, kinds)| {
                let convs = kinds
                    .iter()
                    .flat_map(|(k, cs)| {
                        cs.iter().map(move |c| {
                            (k.clone(), render(&c.frames, &self.vxlan_order(k)).into_iter().map(|l| l.1).collect())
                        })
                    })
                    .collect();
                (i.clone(), convs)
            })
            .collect()
    }
}

/// What the comparison found.
#[derive(Debug, Default)]
pub struct Report {
    /// One entry per conversation that differs; an entry may span several lines.
    pub differences: Vec<String>,
    /// Conversations compared (paired on both sides).
    pub compared: usize,
    /// Frames on each side: (kernel, simulator).
    pub frames: (usize, usize),
    /// What each side left out, by reason: `IPv6: 12 on the kernel, 0 in the simulator`.
    pub left_out: Vec<String>,
    /// The simulator's frames after the kernel's capture ended, which nothing can judge: how
    /// many, and when the capture ended on the simulator's clock.
    pub after_the_capture: (usize, u64),
}

/// How far behind the simulator's clock the kernel's may fall by the end of a timed run.
const CAPTURE_SLACK_NS: u64 = 10_000_000;

/// The simulator's conversations beside the kernel's.
///
/// With `timed` (a lab whose programs start at set times, on both sides from the start of the
/// run), what the simulator sent after the kernel's capture ended is left out and counted in
/// the report: the kernel's run ends when its last program has, the simulator's when its last
/// timer has fired (a neighbour entry's probe 5 s after the traffic). The two clocks are
/// aligned on the first frame each compares (the capture starts a little before the run).
/// The capture ended when the file says it stopped, or else at its last frame.
pub fn compare(sim: &Capture, kernel: &Capture, timed: bool) -> Report {
    let (sim, later, end) = match (timed, kernel.first_ns, sim.first_ns) {
        (true, Some(k0), Some(s0)) => {
            let ended = kernel.ended_ns.unwrap_or(kernel.last_ns).max(kernel.last_ns);
            let end = (ended + s0).saturating_sub(k0) + CAPTURE_SLACK_NS;
            let (c, later) = sim.until(end);
            (c, later, end)
        }
        _ => (sim.clone(), 0, 0),
    };
    let sim = &sim;
    let mut r =
        Report { frames: (kernel.frames(), sim.frames()), after_the_capture: (later, end), ..Report::default() };
    let empty = BTreeMap::new();
    let ifaces: std::collections::BTreeSet<&String> = sim.ifaces.keys().chain(kernel.ifaces.keys()).collect();
    for i in ifaces {
        let (s, k) = (sim.ifaces.get(i).unwrap_or(&empty), kernel.ifaces.get(i).unwrap_or(&empty));
        let kinds: std::collections::BTreeSet<&String> = s.keys().chain(k.keys()).collect();
        for kind in kinds {
            let (sim_vx, kernel_vx) = (sim.vxlan_order(kind), kernel.vxlan_order(kind));
            let (sc, kc) = (s.get(kind).map_or(&[][..], Vec::as_slice), k.get(kind).map_or(&[][..], Vec::as_slice));
            let n = sc.len().max(kc.len());
            for j in 0..n {
                let which = if n > 1 { format!(" (conversation {} of {n})", j + 1) } else { String::new() };
                let (sl, kl) =
                    (sc.get(j).map(|c| render(&c.frames, &sim_vx)), kc.get(j).map(|c| render(&c.frames, &kernel_vx)));
                match (kl, sl) {
                    (Some(kl), Some(sl)) => {
                        r.compared += 1;
                        if let Some(d) = side_by_side(&kl, &sl) {
                            r.differences.push(format!("{i}, {kind}{which}: {d}"));
                        }
                    }
                    (Some(kl), None) => r.differences.push(format!(
                        "{i}, {kind}{which}: only on the kernel, {} frames, the first `{}`",
                        kl.len(),
                        kl[0].1
                    )),
                    (None, Some(sl)) => r.differences.push(format!(
                        "{i}, {kind}{which}: only in the simulator, {} frames, the first `{}`",
                        sl.len(),
                        sl[0].1
                    )),
                    (None, None) => {}
                }
            }
        }
    }
    let reasons: std::collections::BTreeSet<&&str> = sim.left_out.keys().chain(kernel.left_out.keys()).collect();
    for why in reasons {
        let (k, s) = (kernel.left_out.get(*why).copied().unwrap_or(0), sim.left_out.get(*why).copied().unwrap_or(0));
        r.left_out.push(format!("{why}: {k} on the kernel, {s} in the simulator"));
    }
    r
}

/// How many lines around the first divergence are shown.
const CONTEXT: usize = 2;

/// Where two conversations part: counts of frames only on each side (by a longest common
/// subsequence, `similar`'s Myers diff), then the first divergence with its neighbours, both
/// sides in columns, each frame with its time from the conversation's first.
fn side_by_side(k: &[(u64, String)], s: &[(u64, String)]) -> Option<String> {
    let kt: Vec<&str> = k.iter().map(|l| l.1.as_str()).collect();
    let st: Vec<&str> = s.iter().map(|l| l.1.as_str()).collect();
    let first = (0..kt.len().max(st.len())).find(|&i| kt.get(i) != st.get(i))?;
    let (mut only_k, mut only_s) = (0, 0);
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &kt, &st) {
        match op {
            similar::DiffOp::Delete { old_len, .. } => only_k += old_len,
            similar::DiffOp::Insert { new_len, .. } => only_s += new_len,
            similar::DiffOp::Replace { old_len, new_len, .. } => {
                only_k += old_len;
                only_s += new_len;
            }
            similar::DiffOp::Equal { .. } => {}
        }
    }
    let mut out = format!(
        "{} frames on the kernel, {} in the simulator: {only_k} only on the kernel, {only_s} only in the simulator; \
         first difference at frame {}:",
        k.len(),
        s.len(),
        first + 1
    );
    let t0 = |l: &[(u64, String)]| l.first().map_or(0, |x| x.0);
    let (k0, s0) = (t0(k), t0(s));
    let show = |l: Option<&(u64, String)>, t: u64| match l {
        Some((at, line)) => format!("{:>10.6}s {line}", at.saturating_sub(t) as f64 / 1e9),
        None => "(nothing)".into(),
    };
    for i in first.saturating_sub(CONTEXT)..(first + CONTEXT + 1).min(k.len().max(s.len())) {
        let mark = if i == first { '>' } else { ' ' };
        let _ = write!(
            out,
            "\n  {mark}{:>4} kernel:    {}\n  {mark}{:>4} simulator: {}",
            i + 1,
            show(k.get(i), k0),
            "",
            show(s.get(i), s0)
        );
    }
    Some(out)
}

enum Skip {
    Left(&'static str),
    Fragment { src: [u8; 4], dst: [u8; 4], proto: u8, id: u16 },
}

fn proto_name(p: u8) -> String {
    match p {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        p => format!("ip-proto-{p}"),
    }
}

/// The payload of an Ethernet frame (past any 802.1Q tag) and its ethertype.
fn eth_payload(frame: &[u8]) -> Option<(u16, &[u8])> {
    let mut off = 12;
    let mut et = u16::from_be_bytes([*frame.get(off)?, *frame.get(off + 1)?]);
    if et == 0x8100 {
        off += 4;
        et = u16::from_be_bytes([*frame.get(off)?, *frame.get(off + 1)?]);
    }
    Some((et, frame.get(off + 2..)?))
}

/// The outer source address and port of a VXLAN packet.
fn vxlan_source_port(frame: &[u8]) -> Option<(Ipv4Addr, u16)> {
    let (0x0800, ip) = eth_payload(frame)? else { return None };
    let hl = usize::from(*ip.first()? & 0x0f) * 4;
    let (sp, dp) = ports(ip.get(hl..)?)?;
    let src = Ipv4Addr::new(*ip.get(12)?, *ip.get(13)?, *ip.get(14)?, *ip.get(15)?);
    (*ip.get(9)? == 17 && dp == sim_core::wire::vxlan::PORT).then_some((src, sp))
}

/// (source, destination, protocol, id) of an IPv4 packet that is the first of several
/// fragments.
fn first_fragment(frame: &[u8]) -> Option<([u8; 4], [u8; 4], u8, u16)> {
    let (0x0800, ip) = eth_payload(frame)? else { return None };
    let (_, more, off) = sim_core::wire::ipv4::frag_fields(ip);
    (more && off == 0 && ip.len() >= 20)
        .then(|| (ip[12..16].try_into().ok(), ip[16..20].try_into().ok()))
        .and_then(|(s, d)| Some((s?, d?, ip[9], u16::from_be_bytes([ip[4], ip[5]]))))
}

/// The kind of conversation a frame belongs to, and the exact endpoints within that kind.
fn eth_key(frame: &[u8]) -> Result<(String, String), Skip> {
    let (et, payload) = eth_payload(frame).ok_or(Skip::Left("frames too short for Ethernet"))?;
    match et {
        0x0806 => {
            let a = sim_core::wire::ArpRepr::parse(payload).ok_or(Skip::Left("ARP other than IPv4 over Ethernet"))?;
            let (x, y) =
                if a.sender_ip <= a.target_ip { (a.sender_ip, a.target_ip) } else { (a.target_ip, a.sender_ip) };
            let k = if x == y { format!("arp {x}") } else { format!("arp {x} <> {y}") };
            Ok((k.clone(), k))
        }
        0x0800 => ip_key(payload),
        0x86dd => Err(Skip::Left(
            "IPv6 (the kernel's duplicate address detection, MLD and router solicitations at link up; the simulator has no IPv6)",
        )),
        _ => Err(Skip::Left("other ethertypes")),
    }
}

fn ip_key(ip: &[u8]) -> Result<(String, String), Skip> {
    if ip.len() < 20 {
        return Err(Skip::Left("IPv4 packets cut short"));
    }
    let hl = usize::from(ip[0] & 0x0f) * 4;
    let (proto, src, dst) =
        (ip[9], Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]), Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]));
    let (_, _, off) = sim_core::wire::ipv4::frag_fields(ip);
    if off > 0 {
        return Err(Skip::Fragment {
            src: src.octets(),
            dst: dst.octets(),
            proto,
            id: u16::from_be_bytes([ip[4], ip[5]]),
        });
    }
    let l4 = ip.get(hl..).unwrap_or_default();
    let port = |b: &[u8], o: usize| b.get(o..o + 2).map(|p| u16::from_be_bytes([p[0], p[1]]));
    match proto {
        2 => Err(Skip::Left("IGMP (Linux bridges' multicast snooping; not modelled: docs/linux-model.md)")),
        6 | 17 => {
            let (Some(sp), Some(dp)) = (port(l4, 0), port(l4, 2)) else {
                return Ok((format!("{} {src} <> {dst}", proto_name(proto)), String::new()));
            };
            if proto == 17
                && dp == sim_core::wire::vxlan::PORT
                && let Some(vx) = sim_core::wire::vxlan::Packet::new_checked(l4.get(8..).unwrap_or_default())
            {
                let (ik, it) = eth_key(vx.payload())?;
                let (a, b) = if src <= dst { (src, dst) } else { (dst, src) };
                return Ok((format!("vxlan {a} <> {b} vni {} | {ik}", vx.vni()), it));
            }
            let shown = |p: u16| if ephemeral(p) { "*".to_string() } else { p.to_string() };
            let (x, y) = ((src, sp), (dst, dp));
            let ((a, ap), (b, bp)) = if (x.0, shown(x.1)) <= (y.0, shown(y.1)) { (x, y) } else { (y, x) };
            Ok((
                format!("{} {a}:{} <> {b}:{}", proto_name(proto), shown(ap), shown(bp)),
                format!("{a}:{ap} <> {b}:{bp}"),
            ))
        }
        1 => {
            let (t, id) = (l4.first().copied().unwrap_or(255), port(l4, 4).unwrap_or(0));
            match t {
                0 | 8 => {
                    let (a, b) = if src <= dst { (src, dst) } else { (dst, src) };
                    Ok((format!("icmp echo {a} <> {b}"), format!("id {id}")))
                }
                // An error belongs to the conversation of the packet it quotes.
                3 | 4 | 5 | 11 | 12 => match l4.get(8..).map(ip_key) {
                    Some(Ok(k)) => Ok(k),
                    _ => Ok((format!("icmp {src} > {dst} type {t}"), String::new())),
                },
                t => Ok((format!("icmp {src} > {dst} type {t}"), String::new())),
            }
        }
        p => Ok((format!("{} {src} <> {dst}", proto_name(p)), String::new())),
    }
}

/// Names for what each side draws at random, in order of first appearance.
#[derive(Default)]
struct Names {
    macs: Vec<[u8; 6]>,
    ports: Vec<u16>,
    ids: Vec<u16>,
    frag_ids: Vec<u16>,
    /// The capture's VXLAN source ports ([`Capture::vxlan_ports`]).
    vxlan_ports: Vec<u16>,
    /// (address, port) → first sequence number seen from it.
    isn: HashMap<(Ipv4Addr, u16), u32>,
    /// (address, port) → the first acknowledgement it sent, less one.
    ack0: HashMap<(Ipv4Addr, u16), u32>,
}

fn nth<T: PartialEq + Copy>(v: &mut Vec<T>, x: T) -> usize {
    match v.iter().position(|y| *y == x) {
        Some(i) => i + 1,
        None => {
            v.push(x);
            v.len()
        }
    }
}

impl Names {
    fn mac(&mut self, m: &[u8]) -> String {
        let Ok(m): Result<[u8; 6], _> = m.try_into() else { return "?".into() };
        // Broadcast and multicast addresses are the protocol's, not drawn.
        if m[0] & 1 == 1 {
            return sim_core::wire::Mac(m).to_string();
        }
        format!("m{}", nth(&mut self.macs, m))
    }

    fn port(&mut self, p: u16) -> String {
        if ephemeral(p) { format!("p{}", nth(&mut self.ports, p)) } else { p.to_string() }
    }
}

/// The conversation's frames as lines, in the order they left, each with its time.
fn render(frames: &[Sent], vxlan_ports: &[u16]) -> Vec<(u64, String)> {
    let mut sorted: Vec<&Sent> = frames.iter().collect();
    sorted.sort_by_key(|f| f.at_ns);
    let mut names = Names { vxlan_ports: vxlan_ports.to_vec(), ..Names::default() };
    sorted
        .into_iter()
        .map(|f| {
            let mut s = String::new();
            eth_line(&f.bytes, &mut names, &mut s, 0);
            (f.at_ns, s)
        })
        .collect()
}

fn eth_line(frame: &[u8], n: &mut Names, s: &mut String, depth: usize) {
    let (Some(dst), Some(src), Some((et, payload))) = (frame.get(0..6), frame.get(6..12), eth_payload(frame)) else {
        s.push_str("(cut short)");
        return;
    };
    let (src, dst) = (n.mac(src), n.mac(dst));
    let _ = write!(s, "{src} > {dst}, ");
    if et == 0x0806 {
        match sim_core::wire::ArpRepr::parse(payload) {
            Some(a) if a.op == sim_core::wire::ARP_REQUEST => {
                let _ = write!(s, "ARP, Request who-has {} tell {}", a.target_ip, a.sender_ip);
                if a.sender_ip != a.target_ip && a.target_mac != sim_core::wire::Mac::ZERO {
                    let _ = write!(s, " (target {})", n.mac(&a.target_mac.0));
                }
            }
            Some(a) => {
                let _ = write!(s, "ARP, Reply {} is-at {}", a.sender_ip, n.mac(&a.sender_mac.0));
            }
            None => s.push_str("ARP, unsupported"),
        }
        return;
    }
    if et != 0x0800 {
        let _ = write!(s, "ethertype 0x{et:04x}, length {}", frame.len());
        return;
    }
    ip_line(payload, n, s, depth, false);
}

fn ip_line(ip: &[u8], n: &mut Names, s: &mut String, depth: usize, quoted: bool) {
    if ip.len() < 20 {
        s.push_str("IP (cut short)");
        return;
    }
    let hl = usize::from(ip[0] & 0x0f) * 4;
    let (tos, ttl, proto) = (ip[1], ip[8], ip[9]);
    let len = u16::from_be_bytes([ip[2], ip[3]]);
    let (df, more, off) = sim_core::wire::ipv4::frag_fields(ip);
    let (src, dst) = (Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]), Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]));
    let _ = write!(s, "IP (tos 0x{tos:x}, ttl {ttl}, ");
    if more || off > 0 {
        let id = nth(&mut n.frag_ids, u16::from_be_bytes([ip[4], ip[5]]));
        let _ = write!(s, "id f{id}, offset {off}, ");
    }
    let flags = match (df, more) {
        (true, true) => "DF+",
        (true, false) => "DF",
        (false, true) => "+",
        (false, false) => "none",
    };
    let _ = write!(s, "flags [{flags}], proto {}, length {len}) ", proto_name(proto));
    if off > 0 {
        let _ = write!(s, "{src} > {dst}: fragment");
        return;
    }
    let l4 = ip.get(hl..).unwrap_or_default();
    match proto {
        6 => tcp_line(src, dst, l4, n, s, quoted),
        17 => udp_line(src, dst, l4, n, s, depth, quoted),
        1 => icmp_line(src, dst, l4, n, s, depth, quoted),
        _ => {
            let _ = write!(s, "{src} > {dst}");
        }
    }
}

fn ports(l4: &[u8]) -> Option<(u16, u16)> {
    Some((u16::from_be_bytes([*l4.first()?, *l4.get(1)?]), u16::from_be_bytes([*l4.get(2)?, *l4.get(3)?])))
}

fn tcp_line(src: Ipv4Addr, dst: Ipv4Addr, l4: &[u8], n: &mut Names, s: &mut String, quoted: bool) {
    let Some((sp, dp)) = ports(l4) else {
        let _ = write!(s, "{src} > {dst}: tcp (cut short)");
        return;
    };
    let _ = write!(s, "{src}.{} > {dst}.{}: tcp", n.port(sp), n.port(dp));
    // A quoted header is cut after 8 bytes (RFC 792): ports and sequence number.
    let seq = l4.get(4..8).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    if quoted {
        if let Some(seq) = seq {
            let isn = *n.isn.entry((src, sp)).or_insert(seq);
            let _ = write!(s, ", seq {}", seq.wrapping_sub(isn));
        }
        return;
    }
    let Ok(t) = etherparse::TcpHeaderSlice::from_slice(l4) else {
        s.push_str(" (malformed)");
        return;
    };
    let len = l4.len().saturating_sub(t.slice().len());
    let flags: String = [
        (t.syn(), 'S'),
        (t.fin(), 'F'),
        (t.rst(), 'R'),
        (t.psh(), 'P'),
        (t.urg(), 'U'),
        (t.ece(), 'E'),
        (t.cwr(), 'W'),
        (t.ack(), '.'),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, c)| *c)
    .collect();
    let isn = *n.isn.entry((src, sp)).or_insert(t.sequence_number());
    let rel = t.sequence_number().wrapping_sub(isn);
    let _ = write!(s, " [{flags}], seq {rel}");
    if len > 0 {
        let _ = write!(s, ":{}", rel.wrapping_add(len as u32));
    }
    let ack0 = if t.ack() {
        Some(*n.ack0.entry((src, sp)).or_insert(t.acknowledgment_number().wrapping_sub(1)))
    } else {
        None
    };
    if let Some(a0) = ack0 {
        let _ = write!(s, ", ack {}", t.acknowledgment_number().wrapping_sub(a0));
    }
    let _ = write!(s, ", win {}", t.window_size());
    if t.urg() {
        let _ = write!(s, ", urg {}", t.urgent_pointer());
    }
    let opts: Vec<String> = t
        .options_iterator()
        .map(|o| {
            use etherparse::TcpOptionElement as O;
            match o {
                Ok(O::Noop) => "nop".into(),
                Ok(O::MaximumSegmentSize(m)) => format!("mss {m}"),
                Ok(O::WindowScale(w)) => format!("wscale {w}"),
                Ok(O::SelectiveAcknowledgementPermitted) => "sackOK".into(),
                Ok(O::SelectiveAcknowledgement(first, rest)) => {
                    let a0 = ack0.unwrap_or(0);
                    let blocks: Vec<String> = std::iter::once(first)
                        .chain(rest.iter().flatten().copied())
                        .map(|(l, r)| format!("{{{}:{}}}", l.wrapping_sub(a0), r.wrapping_sub(a0)))
                        .collect();
                    format!("sack {} {}", blocks.len(), blocks.join(""))
                }
                Ok(O::Timestamp(..)) => "TS".into(),
                Err(e) => format!("malformed option ({e})"),
            }
        })
        .collect();
    if !opts.is_empty() {
        let _ = write!(s, ", options [{}]", opts.join(","));
    }
    let _ = write!(s, ", length {len}");
}

fn udp_line(src: Ipv4Addr, dst: Ipv4Addr, l4: &[u8], n: &mut Names, s: &mut String, depth: usize, quoted: bool) {
    let Some((sp, dp)) = ports(l4) else {
        let _ = write!(s, "{src} > {dst}: udp (cut short)");
        return;
    };
    let vx = (dp == sim_core::wire::vxlan::PORT && !quoted)
        .then(|| sim_core::wire::vxlan::Packet::new_checked(l4.get(8..).unwrap_or_default()))
        .flatten();
    // VXLAN's source port is a hash of the inner flow: named across the capture, so that the
    // same port both ways reads the same.
    let sp_name = if vx.is_some() { format!("v{}", nth(&mut n.vxlan_ports, sp)) } else { n.port(sp) };
    let _ = write!(s, "{src}.{sp_name} > {dst}.{}: udp", n.port(dp));
    if quoted {
        return;
    }
    let (len, sum) = (l4.get(4..6).map(|b| u16::from_be_bytes([b[0], b[1]])), l4.get(6..8));
    if let Some(len) = len {
        let _ = write!(s, ", length {len}");
    }
    if sum == Some(&[0, 0][..]) {
        s.push_str(", no checksum");
    }
    if let Some(vx) = vx {
        let _ = write!(s, ", VXLAN flags 0x{:02x} vni {}", vx.flags(), vx.vni());
        if depth < 2 {
            s.push_str(" | ");
            eth_line(vx.payload(), n, s, depth + 1);
        }
    }
}

fn icmp_line(src: Ipv4Addr, dst: Ipv4Addr, l4: &[u8], n: &mut Names, s: &mut String, depth: usize, quoted: bool) {
    let (Some(&t), Some(&c)) = (l4.first(), l4.get(1)) else {
        let _ = write!(s, "{src} > {dst}: icmp (cut short)");
        return;
    };
    let _ = write!(s, "{src} > {dst}: icmp type {t} code {c}");
    let field = |o: usize| l4.get(o..o + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    match t {
        0 | 8 => {
            if let (Some(id), Some(seq)) = (field(4), field(6)) {
                let _ = write!(
                    s,
                    " (echo {}), id e{}, seq {seq}",
                    if t == 8 { "request" } else { "reply" },
                    nth(&mut n.ids, id)
                );
            }
            if !quoted {
                let _ = write!(s, ", length {}", l4.len());
            }
        }
        3 | 4 | 5 | 11 | 12 if !quoted => {
            if t == 3 && c == 4 {
                let _ = write!(s, ", mtu {}", field(6).unwrap_or(0));
            }
            if depth < 2 {
                s.push_str(" | quoted ");
                ip_line(l4.get(8..).unwrap_or_default(), n, s, depth + 1, true);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::wire::{self, Ipv4Params};

    fn eth(mut f: Vec<u8>, src: u8, dst: wire::Mac) -> Vec<u8> {
        wire::write_eth_header(&mut f, wire::Mac([2, 0, 0, 0, 0, src]), dst, wire::ETHERTYPE_IPV4);
        f
    }

    fn echo(id: u16, seq: u16, reply: bool) -> Vec<u8> {
        let p = Ipv4Params {
            src: [10, 0, 0, 1].into(),
            dst: [10, 0, 0, 2].into(),
            proto: wire::PROTO_ICMP,
            ttl: 64,
            id: 7,
            df: true,
            tos: 0,
        };
        eth(wire::icmp_echo_frame(&p, reply, id, seq, b"netsim"), 1, wire::Mac([2, 0, 0, 0, 0, 2]))
    }

    fn arp(op: u16, dst: wire::Mac) -> Vec<u8> {
        let a = wire::ArpRepr {
            op,
            sender_mac: wire::Mac([2, 0, 0, 0, 0, 1]),
            sender_ip: [10, 0, 0, 1].into(),
            target_mac: wire::Mac::ZERO,
            target_ip: [10, 0, 0, 2].into(),
        };
        a.frame(wire::Mac([2, 0, 0, 0, 0, 1]), dst)
    }

    fn capture(frames: &[Vec<u8>]) -> Capture {
        let mut c = Capture::default();
        for (i, f) in frames.iter().enumerate() {
            c.add("a/eth0", true, i as u64 * 1000, f);
        }
        c
    }

    #[test]
    fn a_ping_reads_as_tcpdump_prints_it_with_its_id_renamed() {
        let c = capture(&[echo(0x1234, 1, false), echo(0x1234, 2, false)]);
        let lines = c.lines();
        let (kind, l) = &lines["a/eth0"][0];
        assert_eq!(kind, "icmp echo 10.0.0.1 <> 10.0.0.2");
        assert_eq!(
            l[0],
            "m1 > m2, IP (tos 0x0, ttl 64, flags [DF], proto icmp, length 34) 10.0.0.1 > 10.0.0.2: icmp type 8 code 0 \
             (echo request), id e1, seq 1, length 14"
        );
        // Another side's id for the same ping is the same ping.
        let other = capture(&[echo(0x9999, 1, false), echo(0x9999, 2, false)]);
        assert!(compare(&other, &c, false).differences.is_empty());
    }

    #[test]
    fn order_within_a_conversation_is_compared_and_between_conversations_is_not() {
        let sim = capture(&[echo(1, 1, false), echo(1, 2, false)]);
        let kernel = capture(&[echo(1, 2, false), echo(1, 1, false)]);
        let r = compare(&sim, &kernel, false);
        assert_eq!(r.differences.len(), 1, "{r:?}");
        assert!(r.differences[0].contains("first difference at frame 1"), "{}", r.differences[0]);
        // An ARP exchange and a ping interleaved either way: no difference.
        let bcast = arp(wire::ARP_REQUEST, wire::Mac::BROADCAST);
        let a = capture(&[bcast.clone(), echo(1, 1, false)]);
        let b = capture(&[echo(1, 1, false), bcast]);
        assert!(compare(&a, &b, false).differences.is_empty());
    }

    #[test]
    fn a_unicast_probe_is_not_a_broadcast() {
        let k = capture(&[arp(wire::ARP_REQUEST, wire::Mac([2, 0, 0, 0, 0, 2]))]);
        let s = capture(&[arp(wire::ARP_REQUEST, wire::Mac::BROADCAST)]);
        let r = compare(&s, &k, false);
        assert_eq!(r.differences.len(), 1, "{r:?}");
        assert!(r.differences[0].contains("m1 > m2, ARP") && r.differences[0].contains("m1 > ff:ff:ff:ff:ff:ff, ARP"));
    }

    #[test]
    fn a_conversation_on_one_side_only_is_reported_with_its_first_frame() {
        let k = capture(&[echo(1, 1, false)]);
        let r = compare(&Capture::default(), &k, false);
        assert_eq!(r.differences.len(), 1);
        assert!(r.differences[0].starts_with("a/eth0, icmp echo 10.0.0.1 <> 10.0.0.2: only on the kernel, 1 frames"));
        assert_eq!(r.frames, (1, 0));
    }

    /// The old behaviours of issue 17's divergences 1–6, made by editing a kernel capture the
    /// way the simulator used to differ from it: each must be reported, on the conversation it
    /// touches, and the capture itself must not.
    mod the_judge_sees_the_old_divergences {
        use super::*;
        use sim_core::capture::{CapturedFrame, Direction, read_pcapng};

        type Trace = (Vec<String>, Vec<CapturedFrame>);

        fn load(name: &str) -> Trace {
            let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../traces/kernel/linux").join(name);
            let f = std::fs::File::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            read_pcapng(std::io::BufReader::new(f)).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        }

        fn capture((names, frames): &Trace) -> Capture {
            let mut c = Capture::default();
            for f in frames {
                c.add(&names[f.interface_id as usize], f.direction == Some(Direction::Outbound), f.ts_ns, &f.data);
            }
            c
        }

        fn iface<'a>(t: &'a Trace, f: &CapturedFrame) -> &'a str {
            &t.0[f.interface_id as usize]
        }

        fn outgoing(f: &CapturedFrame) -> bool {
            f.direction == Some(Direction::Outbound)
        }

        /// The IPv4 packet of an Ethernet frame.
        fn ip(f: &CapturedFrame) -> Option<&[u8]> {
            match eth_payload(&f.data)? {
                (0x0800, ip) => Some(ip),
                _ => None,
            }
        }

        fn tcp_flags(f: &CapturedFrame) -> Option<(u8, usize)> {
            let ip = ip(f)?;
            let hl = usize::from(ip[0] & 0x0f) * 4;
            let tcp = ip.get(hl..).filter(|_| ip[9] == 6)?;
            let len = u16::from_be_bytes([ip[2], ip[3]]) as usize - hl - usize::from(tcp.get(12)? >> 4) * 4;
            Some((*tcp.get(13)?, len))
        }

        /// Asserts the kernel's capture agrees with itself and that `old` differs from it on
        /// the conversation named by `on` (interface, kind).
        fn caught(kernel: &Trace, old: &Trace, on: &str) -> String {
            let k = capture(kernel);
            assert!(compare(&k, &k, false).differences.is_empty());
            let r = compare(&capture(old), &k, false);
            let d = r.differences.iter().find(|d| d.starts_with(on));
            d.unwrap_or_else(|| panic!("nothing reported on {on}: {:#?}", r.differences)).clone()
        }

        #[test]
        fn one_the_handshake_ack_merged_into_the_first_data() {
            let kernel = load("router-nat.pcapng");
            let mut old = kernel.clone();
            // The client's pure ACK that completes the handshake, sent with its request instead.
            let i = old
                .1
                .iter()
                .position(|f| iface(&kernel, f) == "lan1/eth0" && outgoing(f) && tcp_flags(f) == Some((0x10, 0)))
                .expect("the handshake's ACK");
            old.1.remove(i);
            let d = caught(&kernel, &old, "lan1/eth0, tcp 192.168.1.2:* <> 203.0.113.10:80");
            assert!(d.contains("first difference at frame 2"), "{d}");
        }

        #[test]
        fn two_reject_as_drop() {
            let kernel = load("reject.pcapng");
            let mut old = kernel.clone();
            // The router neither resets nor answers with ICMP: whatever it rejects is dropped.
            let router_answer = |f: &CapturedFrame| {
                let Some(ip) = ip(f) else { return false };
                let from_router = iface(&kernel, f).starts_with("router/") && outgoing(f);
                from_router
                    && ((ip[9] == 1 && ip.get(20) == Some(&3)) || tcp_flags(f).is_some_and(|(fl, _)| fl & 0x04 != 0))
            };
            let before = old.1.len();
            old.1.retain(|f| !router_answer(f));
            assert!(old.1.len() < before, "the capture has the router's answers");
            caught(&kernel, &old, "router/eth0, tcp 192.168.1.2:* <> 203.0.113.10:81");
        }

        #[test]
        fn three_a_delay_entry_never_probed() {
            let kernel = load("neigh-delay.pcapng");
            let mut old = kernel.clone();
            let unicast_arp = |f: &CapturedFrame| {
                outgoing(f) && eth_payload(&f.data).is_some_and(|(t, _)| t == 0x0806) && f.data[0] & 1 == 0
            };
            let i = old
                .1
                .iter()
                .position(|f| {
                    unicast_arp(f)
                        && sim_core::wire::ArpRepr::parse(&f.data[14..])
                            .is_some_and(|a| a.op == sim_core::wire::ARP_REQUEST)
                })
                .expect("the unicast probe");
            let on = format!("{}, arp ", iface(&kernel, &old.1[i]));
            old.1.remove(i);
            caught(&kernel, &old, &on);
        }

        #[test]
        fn four_a_private_sibling_hears_a_bridge_mode_broadcast() {
            let kernel = load("macvlan-modes.pcapng");
            let mut old = kernel.clone();
            // m3 (private) heard m1's who-has and answered it.
            let (i, f) = kernel
                .1
                .iter()
                .enumerate()
                .find(|(_, f)| {
                    iface(&kernel, f) == "m1/eth0"
                        && outgoing(f)
                        && sim_core::wire::ArpRepr::parse(f.data.get(14..).unwrap_or_default())
                            .is_some_and(|a| a.target_ip == std::net::Ipv4Addr::new(192, 168, 20, 13))
                })
                .expect("m1's request for m3");
            let req = sim_core::wire::ArpRepr::parse(&f.data[14..]).expect("arp");
            let m3 = sim_core::wire::Mac([2, 0, 0, 0, 0, 3]);
            let reply = sim_core::wire::ArpRepr {
                op: 2,
                sender_mac: m3,
                sender_ip: req.target_ip,
                target_mac: req.sender_mac,
                target_ip: req.sender_ip,
            };
            let id = old.0.iter().position(|n| n == "m3/eth0").unwrap_or_else(|| {
                old.0.push("m3/eth0".into());
                old.0.len() - 1
            }) as u32;
            let answer = CapturedFrame {
                interface_id: id,
                ts_ns: f.ts_ns + 10_000,
                data: reply.frame(m3, req.sender_mac),
                direction: Some(Direction::Outbound),
                ..f.clone()
            };
            old.1.insert(i + 1, answer);
            caught(&kernel, &old, "m3/eth0, arp 192.168.20.11 <> 192.168.20.13");
        }

        #[test]
        fn five_vxlan_source_ports_that_differ_by_direction() {
            let kernel = load("vxlan-two-hosts.pcapng");
            let mut old = kernel.clone();
            // host2's outer source port, drawn from the other direction's inner flow.
            let mut changed = 0;
            for f in old.1.iter_mut().filter(|f| outgoing(f) && kernel.0[f.interface_id as usize] == "host2/eth0") {
                let Some(ip) = ip(f) else { continue };
                let hl = usize::from(ip[0] & 0x0f) * 4;
                if ip[9] == 17 && ip.get(hl + 2..hl + 4) == Some(&[0x12, 0xb5][..]) {
                    let at = 14 + hl;
                    let p = u16::from_be_bytes([f.data[at], f.data[at + 1]]) ^ 0x0101;
                    f.data[at..at + 2].copy_from_slice(&p.to_be_bytes());
                    changed += 1;
                }
            }
            assert!(changed > 1, "host2 sent VXLAN");
            caught(&kernel, &old, "host2/eth0, vxlan 192.168.0.1 <> 192.168.0.2");
        }

        #[test]
        fn six_no_fragments() {
            let kernel = load("fragments.pcapng");
            let mut old = kernel.clone();
            let before = old.1.len();
            old.1.retain(|f| !ip(f).is_some_and(sim_core::wire::ipv4::is_fragment));
            assert!(old.1.len() < before, "the capture has fragments");
            let k = capture(&kernel);
            let r = compare(&capture(&old), &k, false);
            assert!(r.differences.iter().any(|d| d.contains("icmp echo")), "{:#?}", r.differences);
        }
    }
}
