use std::path::{Path, PathBuf};
use std::process::Command;

use etherparse::{ArpHardwareId, ArpOperation, ArpPacket, EtherType, PacketBuilder};

use super::*;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;

const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];
const IP_A: [u8; 4] = [10, 0, 0, 1];
const IP_B: [u8; 4] = [10, 0, 0, 2];

fn arp_request() -> Vec<u8> {
    let arp =
        ArpPacket::new(ArpHardwareId::ETHERNET, EtherType::IPV4, ArpOperation::REQUEST, &MAC_A, &IP_A, &[0; 6], &IP_B)
            .unwrap();
    let builder = PacketBuilder::ethernet2(MAC_A, [0xff; 6]).arp(arp);
    let mut out = Vec::with_capacity(builder.size());
    builder.write(&mut out).unwrap();
    out
}

fn icmp_echo_request() -> Vec<u8> {
    let payload = b"netsim ping payload";
    let builder = PacketBuilder::ethernet2(MAC_A, MAC_B).ipv4(IP_A, IP_B, 64).icmpv4_echo_request(0x1234, 1);
    let mut out = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut out, payload).unwrap();
    out
}

fn udp_datagram() -> Vec<u8> {
    let payload = b"hello over udp";
    let builder = PacketBuilder::ethernet2(MAC_B, MAC_A).ipv4(IP_B, IP_A, 64).udp(40000, 40001);
    let mut out = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut out, payload).unwrap();
    out
}

/// The scenario both the round trip and the tshark test use. The second interface is added
/// after the first frame, as netsim does when an interface first appears.
fn sample() -> (Vec<u8>, Vec<String>, Vec<CapturedFrame>) {
    let frames = vec![
        CapturedFrame {
            interface_id: 0,
            ts_ns: 1_000_000_123,
            data: arp_request(),
            comment: Some("who-has 10.0.0.2".into()),
            direction: Some(Direction::Outbound),
        },
        CapturedFrame {
            interface_id: 1,
            ts_ns: 1_000_000_124,
            data: arp_request(),
            comment: None,
            direction: Some(Direction::Inbound),
        },
        CapturedFrame {
            interface_id: 0,
            ts_ns: 2_000_000_456,
            data: icmp_echo_request(),
            comment: Some("ping 10.0.0.2, seq 1".into()),
            direction: None,
        },
        CapturedFrame {
            interface_id: 1,
            ts_ns: 3_000_000_789,
            data: udp_datagram(),
            comment: Some("udp 40000→40001".into()),
            direction: Some(Direction::Outbound),
        },
    ];
    let mut w = PcapngWriter::new(Vec::new(), "netsim 0.0.0").unwrap();
    assert_eq!(w.add_interface("ns1/eth0", Some("veth to br-host")).unwrap(), 0);
    let first = &frames[0];
    w.write_frame_dir(first.interface_id, first.ts_ns, &first.data, first.comment.as_deref(), first.direction).unwrap();
    assert_eq!(w.add_interface("br-host/br0", None).unwrap(), 1);
    for f in &frames[1..] {
        w.write_frame_dir(f.interface_id, f.ts_ns, &f.data, f.comment.as_deref(), f.direction).unwrap();
    }
    let bytes = w.finish().unwrap();
    (bytes, vec!["ns1/eth0".to_string(), "br-host/br0".to_string()], frames)
}

#[test]
fn round_trip() {
    let (bytes, names, frames) = sample();
    let (got_names, got_frames) = read_pcapng(&bytes[..]).unwrap();
    assert_eq!(got_names, names);
    assert_eq!(got_frames, frames);
}

#[test]
fn round_trip_edge_cases() {
    let mut w = PcapngWriter::new(Vec::new(), "").unwrap();
    let a = w.add_interface("", None).unwrap();
    let long = "x".repeat(MAX_OPTION_LEN);
    let b = w.add_interface("a/b", Some(&long)).unwrap();
    w.write_frame(a, 0, &[], None).unwrap();
    w.write_frame(b, u64::MAX, &[1, 2, 3], Some(&long)).unwrap();
    w.write_frame(a, 1, &[0xab; 1514], Some("")).unwrap();
    let (names, frames) = read_pcapng(&w.finish().unwrap()[..]).unwrap();
    assert_eq!(names, ["", "a/b"]);
    assert_eq!(frames.len(), 3);
    assert_eq!(
        (frames[0].interface_id, frames[0].ts_ns, &frames[0].data[..], &frames[0].comment),
        (0, 0, &[][..], &None)
    );
    assert_eq!((frames[1].interface_id, frames[1].ts_ns, &frames[1].data[..]), (1, u64::MAX, &[1, 2, 3][..]));
    assert_eq!(frames[1].comment.as_deref(), Some(long.as_str()));
    assert_eq!((frames[2].ts_ns, frames[2].data.len(), frames[2].comment.as_deref()), (1, 1514, Some("")));
}

#[test]
fn same_calls_same_bytes() {
    assert_eq!(sample().0, sample().0);
}

/// The packet block written by hand (`epb`) is the one pcap-file writes for the same frame,
/// for every padding of frame and comment, with and without each option.
#[test]
fn epb_is_pcap_files_block() {
    let comments = [None, Some(""), Some("a"), Some("ab"), Some("abc"), Some("abcd"), Some("event 7 caused by 3; é")];
    let dirs = [None, Some(Direction::Inbound), Some(Direction::Outbound)];
    for len in [0usize, 1, 2, 3, 4, 5, 14, 60, 61, 1514] {
        let frame: Vec<u8> = (0..len).map(|i| i as u8).collect();
        for comment in comments {
            for dir in dirs {
                let ts_ns = 4_294_967_296 * 3 + 123_456_789;
                let mut ours = Vec::new();
                epb(&mut ours, 2, ts_ns, &frame, comment, dir);
                let section = SectionHeaderBlock {
                    endianness: Endianness::Little,
                    major_version: 1,
                    minor_version: 0,
                    section_length: -1,
                    options: vec![],
                };
                let mut w = PcapNgWriter::with_section_header(Vec::new(), section).unwrap();
                for _ in 0..3 {
                    let res = InterfaceTsResolution::new(false, TS_RESOLUTION_NS).unwrap();
                    let options = vec![InterfaceDescriptionOption::IfTsResol(res)];
                    w.write_pcapng_block(InterfaceDescriptionBlock {
                        linktype: DataLink::ETHERNET,
                        snaplen: 0,
                        options,
                    })
                    .unwrap();
                }
                let start = w.get_ref().len();
                let mut options = Vec::new();
                if let Some(c) = comment {
                    options.push(EnhancedPacketOption::Common(CommonOption::Comment(Cow::Borrowed(c))));
                }
                if let Some(d) = dir {
                    options.push(EnhancedPacketOption::Flags(d.epb_flags()));
                }
                let block = EnhancedPacketBlock {
                    interface_id: 2,
                    timestamp: Duration::from_nanos(ts_ns),
                    original_len: len as u32,
                    data: Cow::Borrowed(&frame),
                    options,
                };
                w.write_pcapng_block(block).unwrap();
                assert_eq!(ours, w.get_ref()[start..], "frame of {len} bytes, comment {comment:?}, {dir:?}");
            }
        }
    }
}

/// Byte-level check of the layout, against hand-encoded blocks (independent of pcap-file).
#[test]
fn exact_bytes() {
    fn block(kind: u32, body: &[u8]) -> Vec<u8> {
        let mut body = body.to_vec();
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        let len = (body.len() + 12) as u32;
        [&kind.to_le_bytes()[..], &len.to_le_bytes(), &body, &len.to_le_bytes()].concat()
    }
    fn opt(code: u16, value: &[u8]) -> Vec<u8> {
        let mut o = [&code.to_le_bytes()[..], &(value.len() as u16).to_le_bytes(), value].concat();
        while !o.len().is_multiple_of(4) {
            o.push(0);
        }
        o
    }
    const END: [u8; 4] = [0; 4];

    let mut w = PcapngWriter::new(Vec::new(), "netsim 0.0.0").unwrap();
    w.add_interface("ns1/eth0", Some("d")).unwrap();
    w.write_frame(0, 1_000_000_123, &[1, 2, 3, 4, 5], Some("hi")).unwrap();
    let got = w.finish().unwrap();

    let shb = block(
        0x0A0D_0D0A,
        &[
            &0x1A2B_3C4Du32.to_le_bytes()[..],
            &1u16.to_le_bytes(),
            &0u16.to_le_bytes(),
            &(-1i64).to_le_bytes(),
            &opt(4, b"netsim 0.0.0"),
            &END,
        ]
        .concat(),
    );
    let idb = block(
        1,
        &[
            &1u16.to_le_bytes()[..],
            &0u16.to_le_bytes(),
            &SNAPLEN.to_le_bytes(),
            &opt(2, b"ns1/eth0"),
            &opt(3, b"d"),
            &opt(9, &[9]),
            &END,
        ]
        .concat(),
    );
    let ts: u64 = 1_000_000_123;
    let epb = block(
        6,
        &[
            &0u32.to_le_bytes()[..],
            &((ts >> 32) as u32).to_le_bytes(),
            &(ts as u32).to_le_bytes(),
            &5u32.to_le_bytes(),
            &5u32.to_le_bytes(),
            &[1, 2, 3, 4, 5, 0, 0, 0],
            &opt(1, b"hi"),
            &END,
        ]
        .concat(),
    );
    assert_eq!(got, [shb, idb, epb].concat());
}

#[test]
fn unknown_interface_is_an_error_and_writer_stays_usable() {
    let mut w = PcapngWriter::new(Vec::new(), "netsim").unwrap();
    let e = w.write_frame(0, 5, &[1], None).unwrap_err();
    assert!(e.to_string().contains("interface 0") && e.to_string().contains("add_interface"), "{e}");
    let id = w.add_interface("h/eth0", None).unwrap();
    let e = w.write_frame(id + 1, 5, &[1], None).unwrap_err();
    assert!(e.to_string().contains("only 1 interface"), "{e}");
    w.write_frame(id, 5, &[1], None).unwrap();
    let (_, frames) = read_pcapng(&w.finish().unwrap()[..]).unwrap();
    assert_eq!(frames.len(), 1);
}

#[test]
fn too_long_option_is_an_error() {
    let mut w = PcapngWriter::new(Vec::new(), "netsim").unwrap();
    let long = "c".repeat(MAX_OPTION_LEN + 1);
    let e = w.add_interface(&long, None).unwrap_err();
    assert!(e.to_string().contains("65535"), "{e}");
    let id = w.add_interface("h/eth0", None).unwrap();
    assert_eq!(id, 0, "a failed add_interface must not use up an id");
    let e = w.write_frame(id, 1, &[0; 60], Some(&long)).unwrap_err();
    assert!(e.to_string().contains("comment"), "{e}");
    assert!(PcapngWriter::new(Vec::new(), &long).is_err());
}

#[derive(Debug)]
struct FailingWriter;
impl Write for FailingWriter {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("disk on fire"))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Err(std::io::Error::other("disk on fire"))
    }
}

#[test]
fn io_errors_are_reported() {
    // Buffered, so the error shows at the latest in finish().
    let mut w = PcapngWriter::new(FailingWriter, "netsim").unwrap();
    w.add_interface("h/eth0", None).unwrap();
    let mut failed = None;
    for i in 0..10_000 {
        if let Err(e) = w.write_frame(0, i, &[0; 1500], None) {
            failed = Some(e);
            break;
        }
    }
    let e = failed.expect("writing 15 MB to a failing writer must fail");
    assert!(e.to_string().contains("disk on fire"), "{e}");
    let again = w.write_frame(0, 0, &[0; 60], None).unwrap_err();
    assert!(again.to_string().contains("unusable"), "{again}");
    let e = w.finish().unwrap_err();
    assert!(e.to_string().contains("disk on fire"), "{e}");

    let mut w = PcapngWriter::new(FailingWriter, "netsim").unwrap();
    w.add_interface("h/eth0", None).unwrap();
    let e = w.finish().unwrap_err();
    assert!(e.to_string().contains("flush") && e.to_string().contains("disk on fire"), "{e}");
}

#[test]
fn reading_garbage_is_a_clear_error() {
    let e = read_pcapng(&b"this is not a capture file at all"[..]).unwrap_err();
    assert!(e.to_string().starts_with("pcapng: not a readable pcapng file"), "{e}");
    let (mut bytes, ..) = sample();
    bytes.truncate(bytes.len() - 10);
    let e = read_pcapng(&bytes[..]).unwrap_err();
    assert!(e.to_string().contains("bad block at byte"), "{e}");
}

/// Files from other tools (microsecond resolution, the pcap-file default) read back correctly.
#[test]
fn reads_microsecond_files() {
    use pcap_file::pcapng::PcapNgWriter;
    let mut w = PcapNgWriter::new(Vec::new()).unwrap();
    w.write_pcapng_block(InterfaceDescriptionBlock {
        linktype: DataLink::ETHERNET,
        snaplen: 65535,
        options: vec![InterfaceDescriptionOption::IfName("eth0".into())],
    })
    .unwrap();
    w.write_pcapng_block(EnhancedPacketBlock {
        interface_id: 0,
        timestamp: Duration::from_micros(1_500_000),
        original_len: 2,
        data: Cow::Borrowed(&[7, 8]),
        options: vec![],
    })
    .unwrap();
    let (names, frames) = read_pcapng(&w.into_inner()[..]).unwrap();
    assert_eq!(names, ["eth0"]);
    assert_eq!(
        frames,
        [CapturedFrame { interface_id: 0, ts_ns: 1_500_000_000, data: vec![7, 8], comment: None, direction: None }]
    );
}

/// A temporary file removed on drop.
struct TempFile(PathBuf);
impl TempFile {
    fn new(tag: &str) -> Self {
        TempFile(std::env::temp_dir().join(format!("netsim-capture-{tag}-{}.pcapng", std::process::id())))
    }
}
impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn tshark(file: &Path, args: &[&str]) -> String {
    let out = match Command::new("tshark").arg("-n").arg("-r").arg(file).args(args).output() {
        Ok(out) => out,
        Err(e) => panic!(
            "cannot run tshark ({e}): this test checks captures with Wireshark's tshark; install it \
             (Debian/Ubuntu: apt-get install tshark) — CI installs it"
        ),
    };
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "tshark {args:?} failed ({}):\n{}\n{stdout}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Wireshark itself reads our files: interface names, nanosecond timestamps, comments and the
/// protocols inside the frames all come back, and nothing is malformed.
#[test]
fn tshark_reads_our_captures() {
    let (bytes, ..) = sample();
    let file = TempFile::new("tshark");
    std::fs::write(&file.0, &bytes).unwrap();

    let fields = [
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-e",
        "frame.interface_name",
        "-e",
        "frame.time_epoch",
        "-e",
        "frame.comment",
        "-e",
        "_ws.col.Protocol",
        "-e",
        "frame.len",
        "-e",
        "frame.packet_flags_direction",
    ];
    let out = tshark(&file.0, &fields);
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(
        rows,
        [
            "ns1/eth0|1.000000123|who-has 10.0.0.2|ARP|42|0x00000002",
            "br-host/br0|1.000000124||ARP|42|0x00000001",
            "ns1/eth0|2.000000456|ping 10.0.0.2, seq 1|ICMP|61|",
            "br-host/br0|3.000000789|udp 40000→40001|UDP|56|0x00000002",
        ],
        "tshark output:\n{out}"
    );

    let descr = tshark(&file.0, &["-T", "fields", "-e", "frame.interface_description", "-c", "1"]);
    assert_eq!(descr.trim_end(), "veth to br-host");

    let malformed = tshark(&file.0, &["-Y", "_ws.malformed"]);
    assert!(malformed.is_empty(), "tshark finds malformed packets:\n{malformed}");
}

#[test]
fn the_end_of_a_capture_is_read_back_as_written() {
    let mut w = PcapngWriter::new(Vec::new(), "netsim 0.0.0").unwrap();
    let a = w.add_interface("a/eth0", None).unwrap();
    let b = w.add_interface("b/eth0", None).unwrap();
    w.write_frame(a, 1_000, &arp_request(), None).unwrap();
    w.write_frame(b, 2_000, &udp_datagram(), None).unwrap();
    w.write_end(a, 7_500_000_123).unwrap();
    w.write_end(b, 7_500_000_456).unwrap();
    assert!(w.write_end(2, 1).is_err(), "an interface never added has no end");
    let bytes = w.finish().unwrap();
    let back = read_pcapng_ended(&bytes[..]).unwrap();
    assert_eq!(back.names, ["a/eth0", "b/eth0"]);
    assert_eq!(back.frames.len(), 2, "the statistics blocks are not frames");
    assert_eq!(back.ended_ns, Some(7_500_000_456), "the latest end of any interface");
    // A file without them says nothing of its end.
    assert_eq!(read_pcapng_ended(&sample().0[..]).unwrap().ended_ns, None);
}
