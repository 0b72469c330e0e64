//! Application protocols as sans-IO state machines: bytes in, bytes out, no sockets or
//! clocks. `services` carries their bytes over the simulated TCP and UDP.

pub mod dig;
pub mod dns;
pub mod http;
pub mod mysql;
pub mod nc;
pub mod nslookup;
pub mod ping;
pub mod traceroute;
pub mod webapp;
pub mod weblog;
pub mod wget;

/// Test support: a classic pcap of hand-made frames, for tshark to dissect.
#[cfg(test)]
pub(crate) mod testpcap {
    /// Writes a classic pcap (microsecond timestamps, LINKTYPE_ETHERNET) of `frames`.
    pub fn write(path: &std::path::Path, frames: &[Vec<u8>]) {
        let mut out = Vec::new();
        out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&0i32.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&65535u32.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        for (i, f) in frames.iter().enumerate() {
            out.extend_from_slice(&1_700_000_000u32.to_le_bytes());
            out.extend_from_slice(&(u32::try_from(i).unwrap() * 1000).to_le_bytes());
            out.extend_from_slice(&u32::try_from(f.len()).unwrap().to_le_bytes());
            out.extend_from_slice(&u32::try_from(f.len()).unwrap().to_le_bytes());
            out.extend_from_slice(f);
        }
        std::fs::write(path, out).unwrap();
    }
}
