use super::*;

/// One line of traces/kernel/rcvbuf/record.txt: who received, how many bytes, and what `ss`
/// then showed of the receiving socket.
struct Measured {
    passive: bool,
    len: u32,
    rmem: u32,
    rcv_mss: u32,
    ssthresh: u32,
}

fn record() -> Vec<Measured> {
    let text = include_str!("../../../../traces/kernel/rcvbuf/record.txt");
    let field = |line: &str, name: &str| -> u32 {
        let at = line.find(name).unwrap_or_else(|| panic!("no {name} in {line:?}")) + name.len();
        line[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().expect("a number")
    };
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|line| {
            let mut words = line.split_whitespace();
            let passive = words.next() == Some("passive");
            let len = words.next().and_then(|w| w.parse().ok()).expect("a length");
            Measured {
                passive,
                len,
                rmem: field(line, "skmem:(r"),
                rcv_mss: field(line, "rcvmss:"),
                ssthresh: field(line, "rcv_ssthresh:"),
            }
        })
        .collect()
}

/// A socket after the handshake over a veth of MTU 1500 with timestamps on, as the side that
/// received: the passive opener has sent nothing since its SYN-ACK, the active one its
/// handshake ACK.
fn after_handshake(passive: bool) -> RcvBuf {
    let mut rb = RcvBuf::new(if passive { 65160 } else { 64240 });
    rb.established(1, 1448, 10);
    if !passive {
        offer(&mut rb, 1);
    }
    rb
}

/// A segment of `len` bytes is queued (SACK on), its memory held until the test frees it.
fn queued(rb: &mut RcvBuf, len: u32, in_order: bool) {
    rb.rmem += len + SKB_OVERHEAD;
    rb.data_queued(len, in_order, true);
}

/// A segment that acknowledges up to `nxt` leaves: the window field it carries.
fn offer(rb: &mut RcvBuf, nxt: u32) -> u16 {
    let field = rb.select(nxt);
    rb.advertised(field, nxt);
    field
}

#[test]
fn one_segment_costs_and_grows_what_the_kernel_measured() {
    let record = record();
    assert_eq!(record.len(), 16, "traces/kernel/rcvbuf/record.txt holds 8 lengths for each side");
    for m in record {
        let mut rb = after_handshake(m.passive);
        queued(&mut rb, m.len, true);
        let side = if m.passive { "passive" } else { "active" };
        assert_eq!(rb.rmem, m.rmem, "{side} {}: sk_rmem_alloc", m.len);
        assert_eq!(rb.rcv_mss, m.rcv_mss, "{side} {}: rcvmss", m.len);
        assert_eq!(rb.ssthresh, m.ssthresh, "{side} {}: rcv_ssthresh", m.len);
    }
}

#[test]
fn the_first_windows_are_the_kernels() {
    // The handshake ACK offers 63 × 1024; the passive side's first segment keeps the 65160
    // its SYN-ACK offered, rounded up to 64 × 1024, rather than shrink it to 63.
    assert_eq!(after_handshake(false).select(1), 63);
    assert_eq!(after_handshake(true).select(1), 64);
    // A small request leaves the window where it was.
    let mut rb = after_handshake(true);
    queued(&mut rb, 83, true);
    assert_eq!(rb.select(84), 64);
}

#[test]
fn the_window_grows_two_segments_at_a_time_as_full_segments_arrive() {
    // traces/kernel/linux/pmtu-tcp.pcapng: the server receives 1348, 1348 and 200 bytes and
    // answers 67, 70 and 73 (× 1024), the program reading each before the next arrives.
    let mut rb = after_handshake(true);
    let mut nxt = 1u32;
    let mut windows = Vec::new();
    for len in [1348, 1348, 200] {
        queued(&mut rb, len, true);
        nxt += len;
        windows.push(offer(&mut rb, nxt));
        rb.rmem = 0;
    }
    assert_eq!(windows, [67, 70, 73]);
}

#[test]
fn unread_data_holds_the_window_back() {
    // traces/kernel/docker/published-ports.pcapng: 853 bytes of answer, acknowledged before
    // the program reads them, with 64 × 1024 where the grown threshold alone would give 66.
    let mut rb = after_handshake(false);
    queued(&mut rb, 853, true);
    assert_eq!(rb.select(854), 64);
}

#[test]
fn a_full_buffer_offers_nothing_and_the_offer_is_never_withdrawn() {
    let mut rb = after_handshake(true);
    offer(&mut rb, 1);
    rb.rmem = RCVBUF;
    // What was offered and not used yet stays offered.
    assert_eq!(rb.select(1), 64);
    assert_eq!(rb.select(1 + 65536), 0);
}

#[test]
fn segments_beyond_a_gap_grow_the_window_when_sack_is_on() {
    // traces/kernel/linux/sack-blocks.pcapng: the client's first data segment is lost; the two
    // after it and the FIN wait beyond the gap, then the retransmission fills it and the rest
    // follows. The client answers 66, 69, 69, 72 and 75 (× 1024).
    let mut rb = after_handshake(false);
    let mut windows = Vec::new();
    for _ in 0..2 {
        queued(&mut rb, 1448, false);
        windows.push(offer(&mut rb, 73));
    }
    // The FIN, alone beyond the gap.
    rb.rmem += SKB_OVERHEAD;
    windows.push(offer(&mut rb, 73));
    // The gap filled: what waited moves to the receive queue, read after the ACK.
    queued(&mut rb, 1448, true);
    windows.push(offer(&mut rb, 73 + 2896));
    // The program has read up to the gap's end; the second segment and the FIN wait.
    rb.rmem = (1448 + SKB_OVERHEAD) + SKB_OVERHEAD;
    queued(&mut rb, 1448, true);
    windows.push(offer(&mut rb, 73 + 5792));
    assert_eq!(windows, [66, 69, 69, 72, 75]);
}

#[test]
fn without_sack_a_segment_beyond_a_gap_does_not_grow_the_window() {
    let mut rb = after_handshake(false);
    rb.rmem += 1448 + SKB_OVERHEAD;
    rb.data_queued(1448, false, false);
    assert_eq!(rb.select(1), 63);
}
