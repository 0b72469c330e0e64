//! VXLAN (RFC 7348): the one header no crate here offers, written in smoltcp's shape: a typed
//! view over bytes plus a plain `Repr`.

pub const HEADER_LEN: usize = 8;
/// IANA port; Linux's default `dstport` when created by iproute2 and Docker.
pub const PORT: u16 = 4789;
/// Outer Ethernet + IPv4 + UDP + VXLAN: what a VXLAN device costs in MTU.
pub const OVERHEAD: usize = 14 + 20 + 8 + HEADER_LEN;
const FLAG_I: u8 = 0x08;

/// A view over a VXLAN header and the inner frame behind it.
pub struct Packet<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub fn new_unchecked(buf: T) -> Self {
        Packet { buf }
    }

    /// Checks the length so no accessor can panic.
    pub fn new_checked(buf: T) -> Option<Self> {
        (buf.as_ref().len() >= HEADER_LEN).then_some(Packet { buf })
    }

    pub fn flags(&self) -> u8 {
        self.buf.as_ref()[0]
    }

    pub fn vni(&self) -> u32 {
        let b = self.buf.as_ref();
        u32::from_be_bytes([0, b[4], b[5], b[6]])
    }

    pub fn payload(&self) -> &[u8] {
        &self.buf.as_ref()[HEADER_LEN..]
    }
}

/// The plain value of a VXLAN header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr {
    pub vni: u32,
}

impl Repr {
    /// Linux drops frames whose I flag is clear (vxlan_rcv: "invalid vxlan flags").
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Option<Repr> {
        (p.flags() & FLAG_I != 0).then(|| Repr { vni: p.vni() })
    }

    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let v = self.vni.to_be_bytes();
        [FLAG_I, 0, 0, 0, v[1], v[2], v[3], 0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Bytes of a VXLAN header with VNI 4096 as Docker's first overlay uses (0x001000).
    const HEADER_4096: [u8; 8] = [0x08, 0, 0, 0, 0x00, 0x10, 0x00, 0];

    #[test]
    fn emit_matches_rfc_layout() {
        assert_eq!(Repr { vni: 4096 }.to_bytes(), HEADER_4096);
    }

    #[test]
    fn parse_reads_vni_and_rejects_missing_i_flag() {
        let p = Packet::new_checked(&HEADER_4096[..]).unwrap();
        assert_eq!(Repr::parse(&p), Some(Repr { vni: 4096 }));
        let mut bad = HEADER_4096;
        bad[0] = 0;
        assert_eq!(Repr::parse(&Packet::new_unchecked(&bad[..])), None);
        assert!(Packet::new_checked(&HEADER_4096[..7]).is_none());
    }
}
