//! Captures as pcapng files that Wireshark, tshark and tcpdump open directly.
//!
//! # Block layout
//!
//! A file written by [`PcapngWriter`] is one pcapng section, always little-endian:
//!
//! ```text
//! SHB   Section Header Block     version 1.0, section length -1 (unknown),
//!                                shb_userappl = the `application` string (e.g. "netsim 0.0.0")
//! IDB   Interface Description    one per captured interface, in the order added = interface_id 0, 1, 2...
//!                                link type 1 (Ethernet), snaplen 0 (no limit),
//!                                if_name = "<namespace>/<interface>", if_description (optional),
//!                                if_tsresol = 9 (timestamps count nanoseconds)
//! EPB   Enhanced Packet Block    one per frame: interface_id, timestamp = simulated time in ns
//!                                (the simulation starts at the epoch, so 1_000_000_123 ns shows as
//!                                1970-01-01 00:00:01.000000123), the whole frame (captured length =
//!                                original length, no FCS), opt_comment (optional)
//! ```
//!
//! IDBs may come after EPBs (pcapng allows an interface to be described any time before its
//! first packet), so an interface can be added when it first appears in the simulation.
//!
//! Nothing is taken from the machine (no wall clock, host name or OS string): the same calls
//! always give the same bytes.
//!
//! Check a file with `tshark -r FILE -T fields -e frame.interface_name -e frame.time_epoch
//! -e frame.comment -e _ws.col.Protocol`, or read it back with [`read_pcapng`].

use std::borrow::Cow;
use std::error::Error;
use std::fmt;
use std::io::{BufWriter, Read, Write};
use std::time::Duration;

use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption, InterfaceTsResolution,
};
use pcap_file::pcapng::blocks::opt_common::CommonOption;
use pcap_file::pcapng::blocks::packet::PacketOption;
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::{Block, PcapNgReader, PcapNgWriteError, PcapNgWriter};
use pcap_file::{DataLink, Endianness};

/// Snapshot length written in every IDB: 0 means "no limit" in pcapng.
pub const SNAPLEN: u32 = 0;

/// `if_tsresol` written in every IDB: 10^-9 s, so EPB timestamps are nanoseconds.
///
/// pcap-file 3.0.0-rc.3 keeps each interface's resolution and converts the EPB's `Duration` to
/// it, so without this option (default 10^-6) timestamps would silently lose their nanoseconds.
pub const TS_RESOLUTION_NS: u8 = 9;

/// Longest option value pcapng can store (option length is a u16): limits names, descriptions,
/// comments and the application string.
pub const MAX_OPTION_LEN: usize = u16::MAX as usize;

/// Longest frame accepted by [`PcapngWriter::write_frame`] (keeps the EPB's 32-bit block length
/// and the captured length far from overflow; real frames are at most ~64 KiB).
pub const MAX_FRAME_LEN: usize = 1 << 30;

/// An error while writing or reading a capture. Its message says what failed and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureError(String);

impl CaptureError {
    fn new(message: impl Into<String>) -> Self {
        CaptureError(message.into())
    }

    /// `context: cause: cause of cause...`, so that printing with `{}` shows everything.
    fn with_source(context: impl fmt::Display, source: &dyn Error) -> Self {
        let mut message = format!("{context}: {source}");
        let mut next = source.source();
        while let Some(cause) = next {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            next = cause.source();
        }
        CaptureError(message)
    }

    /// The message, as `Display` prints it.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error for CaptureError {}

fn check_option_len(what: &str, value: &str) -> Result<(), CaptureError> {
    if value.len() > MAX_OPTION_LEN {
        return Err(CaptureError::new(format!(
            "pcapng: {what} is {} bytes long, more than the {MAX_OPTION_LEN} bytes a pcapng option can hold",
            value.len()
        )));
    }
    Ok(())
}

/// Writes a pcapng file: one Section Header Block, one Interface Description Block per captured
/// interface (link type Ethernet, snaplen 0, options: if_name `"<namespace>/<interface>"`,
/// optional if_description, if_tsresol = 9 (nanoseconds)), and one Enhanced Packet Block per
/// frame with interface_id, timestamp = simulated time in ns, and an optional opt_comment.
///
/// Output is buffered internally (no need to wrap `w` in a `BufWriter`); call
/// [`finish`](Self::finish) to flush and see the last I/O error. After an I/O error the writer
/// refuses further calls, because the file may end in a partial block.
pub struct PcapngWriter<W: Write> {
    inner: PcapNgWriter<BufWriter<W>>,
    interfaces: u32,
    /// The I/O error that made the output unusable, if any.
    broken: Option<String>,
    /// The packet block being written, kept across packets.
    block: Vec<u8>,
}

impl<W: Write> fmt::Debug for PcapngWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PcapngWriter")
            .field("interfaces", &self.interfaces)
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

impl<W: Write> PcapngWriter<W> {
    /// Starts a file: writes the Section Header Block, with `shb_userappl` = `application`
    /// (e.g. `"netsim 0.0.0"`).
    pub fn new(w: W, application: &str) -> Result<Self, CaptureError> {
        check_option_len("the application name (shb_userappl)", application)?;
        let section = SectionHeaderBlock {
            // Fixed, not the machine's native order: same bytes everywhere.
            endianness: Endianness::Little,
            major_version: 1,
            minor_version: 0,
            section_length: -1,
            options: vec![SectionHeaderOption::UserApplication(Cow::Borrowed(application))],
        };
        let inner = PcapNgWriter::with_section_header(BufWriter::new(w), section)
            .map_err(|e| CaptureError::with_source("pcapng: cannot write the section header", &e))?;
        Ok(PcapngWriter { inner, interfaces: 0, broken: None, block: Vec::new() })
    }

    fn usable(&self) -> Result<(), CaptureError> {
        match &self.broken {
            None => Ok(()),
            Some(e) => {
                Err(CaptureError::new(format!("pcapng: the writer is unusable after an earlier I/O error ({e})")))
            }
        }
    }

    /// Maps a pcap-file error; an I/O error marks the writer broken (a block may be half written).
    fn fail(&mut self, context: String, e: PcapNgWriteError) -> CaptureError {
        let err = CaptureError::with_source(context, &e);
        if matches!(e, PcapNgWriteError::Io(_)) {
            self.broken = Some(err.0.clone());
        }
        err
    }

    /// Describes one more interface and returns its interface_id (0, 1, 2... in call order).
    /// `name` is `"<namespace>/<interface>"`. May be called after frames were written.
    pub fn add_interface(&mut self, name: &str, description: Option<&str>) -> Result<u32, CaptureError> {
        self.usable()?;
        check_option_len("interface name (if_name)", name)?;
        if let Some(d) = description {
            check_option_len("interface description (if_description)", d)?;
        }
        let id = self.interfaces;
        if id == u32::MAX {
            return Err(CaptureError::new("pcapng: too many interfaces"));
        }
        let resolution = InterfaceTsResolution::new(false, TS_RESOLUTION_NS)
            .map_err(|e| CaptureError::with_source("pcapng: timestamp resolution", &e))?;
        let mut options = Vec::with_capacity(3);
        options.push(InterfaceDescriptionOption::IfName(Cow::Borrowed(name)));
        if let Some(d) = description {
            options.push(InterfaceDescriptionOption::IfDescription(Cow::Borrowed(d)));
        }
        options.push(InterfaceDescriptionOption::IfTsResol(resolution));
        let idb = InterfaceDescriptionBlock { linktype: DataLink::ETHERNET, snaplen: SNAPLEN, options };
        if let Err(e) = self.inner.write_pcapng_block(idb) {
            return Err(self.fail(format!("pcapng: cannot write the description of interface {id} ({name:?})"), e));
        }
        self.interfaces = id + 1;
        Ok(id)
    }

    /// Number of interfaces added so far (the next [`add_interface`](Self::add_interface) gets this id).
    pub fn interface_count(&self) -> u32 {
        self.interfaces
    }

    /// Writes one Ethernet frame (without FCS) seen on `interface_id` at simulated time `ts_ns`
    /// (nanoseconds), with an optional comment.
    pub fn write_frame(
        &mut self,
        interface_id: u32,
        ts_ns: u64,
        frame: &[u8],
        comment: Option<&str>,
    ) -> Result<(), CaptureError> {
        self.write_frame_dir(interface_id, ts_ns, frame, comment, None)
    }

    /// [`write_frame`](Self::write_frame), also saying whether the frame left the interface or
    /// arrived on it (the EPB's `epb_flags`; Wireshark shows it as `frame.packet_flags_direction`).
    pub fn write_frame_dir(
        &mut self,
        interface_id: u32,
        ts_ns: u64,
        frame: &[u8],
        comment: Option<&str>,
        direction: Option<Direction>,
    ) -> Result<(), CaptureError> {
        self.usable()?;
        if interface_id >= self.interfaces {
            return Err(CaptureError::new(format!(
                "pcapng: frame at {ts_ns} ns names interface {interface_id}, but only {} interface(s) were added \
                 (call add_interface first)",
                self.interfaces
            )));
        }
        if frame.len() > MAX_FRAME_LEN {
            return Err(CaptureError::new(format!(
                "pcapng: frame at {ts_ns} ns on interface {interface_id} is {} bytes, more than {MAX_FRAME_LEN}",
                frame.len()
            )));
        }
        if let Some(c) = comment {
            check_option_len("frame comment (opt_comment)", c)?;
        }
        let b = &mut self.block;
        b.clear();
        epb(b, interface_id, ts_ns, frame, comment, direction);
        if let Err(e) = self.inner.get_mut().write_all(b) {
            let err = CaptureError::with_source(
                format!("pcapng: cannot write the frame at {ts_ns} ns on interface {interface_id}"),
                &e,
            );
            self.broken = Some(err.0.clone());
            return Err(err);
        }
        Ok(())
    }

    /// Says that the capture of `interface_id` stopped at `end_ns`: an Interface Statistics
    /// Block with `isb_endtime` (pcapng spec, section 4.6), so that a reader knows nothing was
    /// sent there between the last frame and then. tshark shows it with `-V` as the
    /// interface's statistics.
    pub fn write_end(&mut self, interface_id: u32, end_ns: u64) -> Result<(), CaptureError> {
        use pcap_file::pcapng::blocks::interface_statistics::{InterfaceStatisticsBlock, InterfaceStatisticsOption};
        self.usable()?;
        if interface_id >= self.interfaces {
            return Err(CaptureError::new(format!(
                "pcapng: the end of interface {interface_id}, but only {} interface(s) were added",
                self.interfaces
            )));
        }
        let at = Duration::from_nanos(end_ns);
        let isb = InterfaceStatisticsBlock {
            interface_id,
            timestamp: at,
            options: vec![InterfaceStatisticsOption::IsbEndTime(at)],
        };
        if let Err(e) = self.inner.write_pcapng_block(isb) {
            return Err(self.fail(format!("pcapng: cannot write the end of interface {interface_id}"), e));
        }
        Ok(())
    }

    /// Flushes everything and returns the underlying writer.
    pub fn finish(self) -> Result<W, CaptureError> {
        self.usable()?;
        self.inner
            .into_inner()
            .into_inner()
            .map_err(|e| CaptureError::with_source("pcapng: cannot flush the capture", e.error()))
    }
}

/// Appends one Enhanced Packet Block (pcapng spec, section 4.3), little-endian, as pcap-file
/// writes it: interface_id, the timestamp in the interface's nanoseconds, the frame padded to
/// 32 bits, then `opt_comment`, `epb_flags` and `opt_endofopt` when there is an option.
///
/// Written here rather than through pcap-file because it is the one block per frame: its
/// writer builds the block twice (once into a sink, to learn the length) in a dozen small
/// writes, which cost more than all the rest of a frame's capture. The test
/// `epb_is_pcap_files_block` holds the bytes to pcap-file's.
fn epb(b: &mut Vec<u8>, interface_id: u32, ts_ns: u64, frame: &[u8], comment: Option<&str>, dir: Option<Direction>) {
    const ENHANCED_PACKET_BLOCK: u32 = 6;
    const OPT_COMMENT: u16 = 1;
    const EPB_FLAGS: u16 = 2;
    let pad = |n: usize| (4 - n % 4) % 4;
    let mut opts = comment.map_or(0, |c| 4 + c.len() + pad(c.len())) + if dir.is_some() { 8 } else { 0 };
    if opts > 0 {
        opts += 4;
    }
    // MAX_FRAME_LEN and MAX_OPTION_LEN keep this far below u32::MAX.
    let total = (12 + 20 + frame.len() + pad(frame.len()) + opts) as u32;
    b.reserve(total as usize);
    let u32 = |b: &mut Vec<u8>, v: u32| b.extend_from_slice(&v.to_le_bytes());
    let u16 = |b: &mut Vec<u8>, v: u16| b.extend_from_slice(&v.to_le_bytes());
    u32(b, ENHANCED_PACKET_BLOCK);
    u32(b, total);
    u32(b, interface_id);
    u32(b, (ts_ns >> 32) as u32);
    u32(b, ts_ns as u32);
    u32(b, frame.len() as u32);
    u32(b, frame.len() as u32);
    b.extend_from_slice(frame);
    b.extend_from_slice(&[0; 3][..pad(frame.len())]);
    if let Some(c) = comment {
        u16(b, OPT_COMMENT);
        u16(b, c.len() as u16);
        b.extend_from_slice(c.as_bytes());
        b.extend_from_slice(&[0; 3][..pad(c.len())]);
    }
    if let Some(d) = dir {
        u16(b, EPB_FLAGS);
        u16(b, 4);
        u32(b, d.epb_flags());
    }
    if opts > 0 {
        u32(b, 0);
    }
    u32(b, total);
}

/// Which way a frame crossed the interface it was captured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    /// Bits 0–1 of `epb_flags` (pcapng spec, section 4.3.1): 01 inbound, 10 outbound.
    fn epb_flags(self) -> u32 {
        match self {
            Direction::Inbound => 0b01,
            Direction::Outbound => 0b10,
        }
    }

    fn from_epb_flags(flags: u32) -> Option<Direction> {
        match flags & 0b11 {
            0b01 => Some(Direction::Inbound),
            0b10 => Some(Direction::Outbound),
            _ => None,
        }
    }
}

/// One packet read back by [`read_pcapng`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedFrame {
    /// Index into the interface names returned alongside (numbered across all sections of the file).
    pub interface_id: u32,
    /// Timestamp in nanoseconds since the epoch (= simulated time for netsim's files).
    pub ts_ns: u64,
    /// The captured bytes.
    pub data: Vec<u8>,
    /// The packet's `opt_comment`; several comments are joined with `'\n'`.
    pub comment: Option<String>,
    /// From `epb_flags`, when the file says.
    pub direction: Option<Direction>,
}

fn join_comments<'a>(comments: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut out: Option<String> = None;
    for c in comments {
        match &mut out {
            None => out = Some(c.to_owned()),
            Some(s) => {
                s.push('\n');
                s.push_str(c);
            }
        }
    }
    out
}

/// Reads a pcapng file back: the interface names (`if_name`, or `""` when absent) in
/// interface_id order, and every packet in file order.
///
/// Accepts any pcapng file, not only ours: Enhanced, obsolete and Simple Packet Blocks are read
/// (a Simple Packet Block has interface 0 of its section, time 0 and no comment), other blocks
/// are skipped, and if the file has several sections their interfaces are numbered one after
/// the other.
pub fn read_pcapng(r: impl Read) -> Result<(Vec<String>, Vec<CapturedFrame>), CaptureError> {
    read_pcapng_ended(r).map(|f| (f.names, f.frames))
}

/// A pcapng file read back whole by [`read_pcapng_ended`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadBack {
    /// The interface names in interface_id order.
    pub names: Vec<String>,
    /// Every packet, in file order.
    pub frames: Vec<CapturedFrame>,
    /// When the capture stopped: the latest `isb_endtime` of any interface, where the file
    /// says (`PcapngWriter::write_end`).
    pub ended_ns: Option<u64>,
}

/// [`read_pcapng`], also giving when the capture stopped.
pub fn read_pcapng_ended(r: impl Read) -> Result<ReadBack, CaptureError> {
    use pcap_file::pcapng::blocks::interface_statistics::InterfaceStatisticsOption;
    let mut ended: Option<u64> = None;
    let mut reader = PcapNgReader::new(r)
        .map_err(|e| CaptureError::with_source("pcapng: not a readable pcapng file (bad section header)", &e))?;
    let mut names: Vec<String> = Vec::new();
    let mut frames = Vec::new();
    // interface_id of the first interface of the current section.
    let mut section_base = 0u32;
    let to_u32 = |n: usize| u32::try_from(n).map_err(|_| CaptureError::new("pcapng: too many interfaces"));
    loop {
        let offset = reader.bytes_parsed();
        let Some(next) = reader.next_block() else { break };
        let (block, _) =
            next.map_err(|e| CaptureError::with_source(format!("pcapng: bad block at byte {offset}"), &e))?;
        let ts = |d: Duration| {
            u64::try_from(d.as_nanos()).map_err(|_| {
                CaptureError::new(format!("pcapng: packet at byte {offset} has a timestamp past year 2554"))
            })
        };
        match block {
            Block::SectionHeader(_) => section_base = to_u32(names.len())?,
            Block::InterfaceDescription(idb) => {
                let name = idb.options.iter().find_map(|o| match o {
                    InterfaceDescriptionOption::IfName(n) => Some(n.to_string()),
                    _ => None,
                });
                names.push(name.unwrap_or_default());
            }
            Block::EnhancedPacket(epb) => frames.push(CapturedFrame {
                interface_id: section_base + epb.interface_id,
                ts_ns: ts(epb.timestamp)?,
                comment: join_comments(epb.options.iter().filter_map(|o| match o {
                    EnhancedPacketOption::Common(CommonOption::Comment(c)) => Some(c.as_ref()),
                    _ => None,
                })),
                direction: epb.options.iter().find_map(|o| match o {
                    EnhancedPacketOption::Flags(f) => Direction::from_epb_flags(*f),
                    _ => None,
                }),
                data: epb.data.into_owned(),
            }),
            Block::Packet(pb) => frames.push(CapturedFrame {
                interface_id: section_base + u32::from(pb.interface_id),
                ts_ns: ts(pb.timestamp)?,
                comment: join_comments(pb.options.iter().filter_map(|o| match o {
                    PacketOption::Common(CommonOption::Comment(c)) => Some(c.as_ref()),
                    _ => None,
                })),
                data: pb.data.into_owned(),
                direction: None,
            }),
            Block::SimplePacket(spb) => frames.push(CapturedFrame {
                interface_id: section_base,
                ts_ns: 0,
                comment: None,
                direction: None,
                data: spb.data.into_owned(),
            }),
            Block::InterfaceStatistics(isb) => {
                for o in &isb.options {
                    if let InterfaceStatisticsOption::IsbEndTime(t) = o {
                        let t = ts(*t)?;
                        ended = Some(ended.map_or(t, |e| e.max(t)));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(ReadBack { names, frames, ended_ns: ended })
}

/// What `--once` remembers: each packet's identity and when it was last seen.
///
/// A packet is the same packet on every interface it crosses: a bridge forwards the frame as
/// it is, a router lowers the TTL (and so the header checksum) and rewrites the MACs, and a
/// VXLAN device wraps the frame in a new one. So the identity is the innermost IPv4 packet
/// with TTL and checksum cleared (the whole frame for ARP and other non-IP frames). A copy
/// seen again within `SAME_JOURNEY` of the last sighting is the same journey; later, it is a
/// new packet with the same bytes (an ARP request retried after a second, a SYN after its
/// RTO), written again. NAT changes addresses, so a NATed packet is written once more, in the
/// connection it now belongs to.
#[derive(Default)]
pub struct Once {
    seen: std::collections::HashMap<Vec<u8>, u64>,
}

/// A journey across a lab takes microseconds (a link's `delay` adds to each hop); a retry
/// waits a second or more.
const SAME_JOURNEY_NS: u64 = 200_000_000;

impl Once {
    /// Whether the frame seen at `t_ns` is a later copy of one already written.
    pub fn repeat(&mut self, frame: &[u8], t_ns: u64) -> bool {
        let key = identity(frame);
        match self.seen.insert(key, t_ns) {
            Some(last) => t_ns.saturating_sub(last) < SAME_JOURNEY_NS,
            None => false,
        }
    }
}

/// The innermost IPv4 packet of a frame, TTL and header checksum cleared, or the frame.
fn identity(frame: &[u8]) -> Vec<u8> {
    use crate::wire::{self, ETH_HLEN, vxlan};
    let info = match frame.get(ETH_HLEN..) {
        Some(ip) if wire::ethertype(frame) == wire::ETHERTYPE_IPV4 => wire::ipv4_info(ip).ok().map(|i| (ip, i)),
        _ => None,
    };
    let Some((ip, info)) = info else { return frame.to_vec() };
    let ip = &ip[..info.total_len];
    if info.proto == wire::PROTO_UDP
        && let Some(udp) = etherparse::UdpSlice::from_slice(&ip[info.ihl..]).ok()
        && udp.destination_port() == vxlan::PORT
        && let Some(vx) = vxlan::Packet::new_checked(udp.payload())
    {
        return identity(vx.payload());
    }
    let mut key = ip.to_vec();
    // The TTL and the header checksum: what a router changes (RFC 791 header layout).
    key[8] = 0;
    key[10..12].fill(0);
    key
}

#[cfg(test)]
mod tests;
