//! Reading an IPv4 header: every reader — the stack's `ip_rcv`, netfilter and conntrack, a
//! header quoted inside an ICMP error, VXLAN's flow hash, the hop log, the kernel backend's
//! frames and agent — goes through etherparse's checked view (`Ipv4HeaderSlice`, which proves
//! once that the whole header is there, version 4, IHL ≥ 5) via `header` or `received`
//! (the stack's own hot path through `received_len`, the same checks written out); and
//! every checksum is `checksum` or its incremental update (RFC 1071, RFC 1624). Written here:
//! the error words the hop log prints, the payload as the total length bounds it, and the
//! in-place updates (TTL, NAT) that a read-only view does not offer.

use std::net::Ipv4Addr;

pub use etherparse::Ipv4HeaderSlice;
use etherparse::err::ipv4::{HeaderError, HeaderSliceError};

/// What a header is refused for, in the words the hop log prints for a dropped packet.
pub type Malformed = &'static str;

/// The IPv4 header at the start of `b`: at least 20 bytes, version 4, an IHL of at least 5
/// words that `b` holds. The total length is not checked against `b`: a header quoted in an
/// ICMP error is cut short after 8 bytes of payload.
pub fn header(b: &[u8]) -> Result<Ipv4HeaderSlice<'_>, Malformed> {
    Ipv4HeaderSlice::from_slice(b).map_err(|e| match e {
        HeaderSliceError::Len(l) if l.required_len <= 20 => "truncated IPv4 header",
        HeaderSliceError::Content(HeaderError::UnexpectedVersion { .. }) => "not IPv4",
        _ => "bad IPv4 length",
    })
}

/// A packet as `ip_rcv` accepts it (net/ipv4/ip_input.c, `ip_rcv_core`): a whole header, a
/// total length that covers the header and fits `b`, a correct header checksum.
pub fn received(b: &[u8]) -> Result<Ipv4HeaderSlice<'_>, Malformed> {
    let h = header(b)?;
    let total = usize::from(h.total_len());
    if total < h.slice().len() || total > b.len() {
        return Err("bad IPv4 length");
    }
    if checksum(h.slice()) != 0 {
        return Err("bad IPv4 header checksum");
    }
    Ok(h)
}

/// `received`'s checks, in the same order and words, written out for the stack's own
/// `ip_rcv` and output path: the length of the header `received` would accept. Every packet
/// is checked here twice (sent and received), and etherparse's view, built and then read
/// field by field, cost more than the checks; a property test holds the two to each other.
pub fn received_len(b: &[u8]) -> Result<usize, Malformed> {
    let Some(&first) = b.first().filter(|_| b.len() >= 20) else { return Err("truncated IPv4 header") };
    if first >> 4 != 4 {
        return Err("not IPv4");
    }
    let hlen = usize::from(first & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([b[2], b[3]]));
    if hlen < 20 || hlen > b.len() || total < hlen || total > b.len() {
        return Err("bad IPv4 length");
    }
    if checksum(&b[..hlen]) != 0 {
        return Err("bad IPv4 header checksum");
    }
    Ok(hlen)
}

/// The source and destination of a header `header` accepted.
pub fn addrs(h: &Ipv4HeaderSlice<'_>) -> (Ipv4Addr, Ipv4Addr) {
    (h.source_addr(), h.destination_addr())
}

/// Lowers the TTL of the header at the start of `ip` by one and patches its checksum
/// incrementally, as `ip_decrease_ttl` does (the TTL is the high byte of its 16-bit word).
/// `ip` must hold a header (`header` accepted it).
pub fn decrease_ttl(ip: &mut [u8]) {
    let old = u16::from_be_bytes([ip[8], ip[9]]);
    ip[8] = ip[8].wrapping_sub(1);
    let new = u16::from_be_bytes([ip[8], ip[9]]);
    let c = checksum_update(u16::from_be_bytes([ip[10], ip[11]]), old, new);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
}

/// The Internet checksum of `data` (RFC 1071): 0 over a block whose checksum is right.
pub fn checksum(data: &[u8]) -> u16 {
    !fold(sum_words(data))
}

/// The ones'-complement sum of `data` as big-endian 16-bit words (an odd last byte padded
/// with zero), not yet folded to 16 bits. Every packet sent and received is summed here, so
/// it takes 64-bit words with end-around carry: 2^16 = 1 modulo 0xffff (RFC 1071 section 2),
/// so a carry out of bit 63 is worth 1 and the sum of wide words folds to the sum of the
/// 16-bit ones, in a quarter of the steps.
#[inline]
pub(crate) fn sum_words(data: &[u8]) -> u64 {
    let mut sum: u64 = 0;
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let (s, carry) = sum.overflowing_add(u64::from_be_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]));
        sum = s + u64::from(carry);
    }
    let (s, carry) = sum.overflowing_add(tail_word(words.remainder()));
    s + u64::from(carry)
}

/// The last 0 to 7 bytes as the high bytes of a big-endian word, zero-padded: taken 4, 2
/// and 1 at a time, as a copy of variable length into a padded array is a call to memcpy
/// (an IPv4 header leaves 4 bytes, a 64-byte UDP payload with its header none).
#[inline]
fn tail_word(mut rest: &[u8]) -> u64 {
    let (mut word, mut shift) = (0u64, 64);
    if let Some((four, r)) = rest.split_first_chunk::<4>() {
        shift -= 32;
        word |= u64::from(u32::from_be_bytes(*four)) << shift;
        rest = r;
    }
    if let Some((two, r)) = rest.split_first_chunk::<2>() {
        shift -= 16;
        word |= u64::from(u16::from_be_bytes(*two)) << shift;
        rest = r;
    }
    if let [b] = rest {
        word |= u64::from(*b) << (shift - 8);
    }
    word
}

/// A ones'-complement sum folded to 16 bits: each fold adds the high half to the low one,
/// and two at each width take any carry of the first back in.
#[inline]
pub(crate) fn fold(sum: u64) -> u16 {
    let s = (sum & 0xffff_ffff) + (sum >> 32);
    let s = (s & 0xffff_ffff) + (s >> 32);
    let s = (s & 0xffff) + (s >> 16);
    let s = (s & 0xffff) + (s >> 16);
    s as u16
}

/// RFC 1624 eqn. 3: the checksum after one 16-bit word of the block changed from `old` to
/// `new` (the kernel's `csum_replace2`).
pub fn checksum_update(csum: u16, old: u16, new: u16) -> u16 {
    let mut s = u32::from(!csum) + u32::from(!old) + u32::from(new);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    !(s as u16)
}

/// `checksum_update` for a 32-bit field such as an address (`csum_replace4`).
pub fn checksum_update32(csum: u16, old: u32, new: u32) -> u16 {
    let c = checksum_update(csum, (old >> 16) as u16, (new >> 16) as u16);
    checksum_update(c, old as u16, new as u16)
}

/// The flags and fragment offset word of the header at the start of `ip`: DF, MF, and the
/// offset in bytes (RFC 791).
pub fn frag_fields(ip: &[u8]) -> (bool, bool, usize) {
    let w = u16::from_be_bytes([ip[6], ip[7]]);
    (w & 0x4000 != 0, w & 0x2000 != 0, usize::from(w & 0x1fff) * 8)
}

/// `ip_is_fragment`: more fragments follow, or this one is not the first.
#[inline(always)]
pub fn is_fragment(ip: &[u8]) -> bool {
    u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0
}

/// `ip_do_fragment`'s slow path (net/ipv4/ip_output.c): the packet at the start of `ip` (a
/// whole packet or itself a fragment) cut into packets of at most `mtu` bytes, each behind
/// `headroom` zero bytes (room for the link header). Every piece gets the header, the same ID,
/// its offset (the original's plus its place), MF unless it is the last piece of a packet
/// that had none, DF clear, and a new header checksum; the data of all but the last is a
/// multiple of 8 bytes. A packet that fits comes back as one piece, its DF cleared, as the
/// kernel sends a reassembled packet it must fragment anyway (`frag_max_size`).
pub fn fragment(ip: &[u8], mtu: usize, headroom: usize) -> Vec<Vec<u8>> {
    let hlen = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]])).min(ip.len());
    let (_, more_after, base) = frag_fields(ip);
    let room = (mtu.saturating_sub(hlen) & !7).max(8);
    let data = &ip[hlen..total];
    let mut out = Vec::with_capacity(data.len().div_ceil(room));
    let mut off = 0;
    while off < data.len() || out.is_empty() {
        let len = room.min(data.len() - off);
        let last = off + len >= data.len();
        let mut f = vec![0u8; headroom + hlen + len];
        f[headroom..headroom + hlen].copy_from_slice(&ip[..hlen]);
        f[headroom + hlen..].copy_from_slice(&data[off..off + len]);
        let h = &mut f[headroom..];
        h[2..4].copy_from_slice(&((hlen + len) as u16).to_be_bytes());
        let mf = if !last || more_after { 0x2000 } else { 0 };
        h[6..8].copy_from_slice(&(mf | ((base + off) / 8) as u16).to_be_bytes());
        h[10..12].copy_from_slice(&[0, 0]);
        let c = checksum(&h[..hlen]);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        out.push(f);
        off += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;

    proptest::proptest! {
        /// The sum over 32-bit words is RFC 1071's over 16-bit words, odd lengths included.
        #[test]
        fn checksum_is_rfc1071s(data in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let mut sum: u32 = 0;
            let mut chunks = data.chunks_exact(2);
            for c in &mut chunks {
                sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
            }
            if let [b] = chunks.remainder() {
                sum += u32::from(*b) << 8;
            }
            while sum >> 16 != 0 {
                sum = (sum & 0xffff) + (sum >> 16);
            }
            proptest::prop_assert_eq!(checksum(&data), !(sum as u16));
        }
    }

    /// A UDP packet as etherparse builds it.
    fn udp(extra: usize) -> Vec<u8> {
        let mut out = Vec::new();
        PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 63)
            .udp(4000, 53)
            .write(&mut out, &vec![7u8; extra])
            .expect("build");
        out
    }

    /// A 3028-byte packet cut for an MTU of 1500 gives what Linux sent in
    /// traces/kernel/linux/fragments.pcapng (1500, 1500, 68 bytes at offsets 0, 1480, 2960;
    /// MF on all but the last); a first fragment cut again for 1400 gives 1396 + 124, both
    /// with MF. etherparse's own reassembly puts the pieces back to the original data.
    #[test]
    fn a_packet_is_cut_as_the_kernel_cuts_it_and_etherparse_puts_it_back() {
        use etherparse::SlicedPacket;
        use etherparse::defrag::IpDefragPool;
        let mut p = udp(3000);
        p[6] = 0x40; // DF, which fragments do not keep
        p[10..12].copy_from_slice(&[0, 0]);
        let c = checksum(&p[..20]);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        let pieces = fragment(&p, 1500, 0);
        let shape = |v: &[Vec<u8>]| -> Vec<(usize, bool, bool, usize)> {
            v.iter()
                .map(|f| {
                    let (df, mf, off) = frag_fields(f);
                    assert_eq!(checksum(&f[..20]), 0, "header checksum");
                    (f.len(), df, mf, off)
                })
                .collect()
        };
        assert_eq!(shape(&pieces), [(1500, false, true, 0), (1500, false, true, 1480), (68, false, false, 2960)]);
        assert_eq!(shape(&fragment(&pieces[0], 1400, 0)), [(1396, false, true, 0), (124, false, true, 1376)]);
        assert_eq!(shape(&fragment(&pieces[2], 1400, 0)), [(68, false, false, 2960)], "a piece that fits");
        let mut pool = IpDefragPool::<(), ()>::new();
        let mut whole = None;
        for f in &pieces {
            let s = SlicedPacket::from_ip(f).expect("a fragment etherparse reads");
            whole = pool.process_sliced_packet(&s, (), ()).expect("a fragment it takes").or(whole);
        }
        let whole = whole.expect("the last piece completes it");
        assert_eq!(whole.payload, p[20..], "the same UDP header and data");
    }

    #[test]
    fn a_received_packet_reads_as_etherparse_built_it() {
        let b = udp(12);
        let h = received(&b).expect("valid");
        assert_eq!(addrs(&h), (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)));
        assert_eq!((h.ttl(), h.protocol().0, h.total_len()), (63, 17, 20 + 8 + 12));
    }

    #[test]
    fn a_quoted_header_is_read_but_not_received() {
        let b = udp(100);
        let quoted = &b[..28];
        assert_eq!(header(quoted).expect("a whole header").total_len(), 20 + 8 + 100, "as sent, not as quoted");
        assert_eq!(received(quoted).err(), Some("bad IPv4 length"));
        assert_eq!(header(&b[..19]).err(), Some("truncated IPv4 header"));
        let mut v6 = b.clone();
        v6[0] = 0x65;
        assert_eq!(header(&v6).err(), Some("not IPv4"));
        let mut short_ihl = b.clone();
        short_ihl[0] = 0x44;
        assert_eq!(header(&short_ihl).err(), Some("bad IPv4 length"));
        let mut long_ihl = b[..24].to_vec();
        long_ihl[0] = 0x47;
        assert_eq!(header(&long_ihl).err(), Some("bad IPv4 length"), "options the buffer does not hold");
        let mut bad = b;
        bad[10] ^= 1;
        assert_eq!(received(&bad).err(), Some("bad IPv4 header checksum"));
    }

    proptest::proptest! {
        /// `received_len` accepts what `received` accepts and refuses the rest in its words:
        /// headers cut anywhere, of every version and IHL, with any total length, sometimes
        /// with a wrong checksum.
        #[test]
        fn received_len_is_received(
            payload in 0usize..40, cut in 0usize..80, first: u8, total: u16, keep_total: bool, keep_first: bool, flip: bool,
        ) {
            let mut b = udp(payload);
            if !keep_first {
                b[0] = first;
            }
            if !keep_total {
                b[2..4].copy_from_slice(&(total % 100).to_be_bytes());
            }
            b[10..12].copy_from_slice(&[0, 0]);
            let hlen = (usize::from(b[0] & 0x0f) * 4).clamp(20, b.len());
            let c = checksum(&b[..hlen]);
            b[10..12].copy_from_slice(&c.to_be_bytes());
            if flip {
                b[8] ^= 1;
            }
            let b = &b[..cut.min(b.len())];
            proptest::prop_assert_eq!(received_len(b), received(b).map(|h| h.slice().len()));
        }
    }

    #[test]
    fn a_lowered_ttl_keeps_the_checksum_right() {
        let mut b = udp(3);
        for ttl in (0..63).rev() {
            decrease_ttl(&mut b);
            let (h, _) = etherparse::Ipv4Header::from_slice(&b).expect("valid");
            assert_eq!((h.time_to_live, h.header_checksum), (ttl, h.calc_header_checksum()));
        }
    }

    #[test]
    fn incremental_updates_equal_a_full_sum() {
        let mut b = udp(5);
        let c = checksum_update32(u16::from_be_bytes([b[10], b[11]]), 0x0a00_0001, 0xc0a8_0102);
        b[12..16].copy_from_slice(&[192, 168, 1, 2]);
        b[10..12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(checksum(&b[..20]), 0);
        let (h, _) = etherparse::Ipv4Header::from_slice(&b).expect("valid");
        assert_eq!(h.header_checksum, h.calc_header_checksum(), "etherparse agrees");
        assert_eq!(checksum(&[0x45]), !0x4500, "an odd byte is the high byte of a last word");
    }
}
