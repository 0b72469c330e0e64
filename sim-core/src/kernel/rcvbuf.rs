//! The window a TCP receiver advertises, and how it grows as data arrives (docs/linux-model.md,
//! *The receive window*).
//!
//! Linux does not advertise a fixed window. Each segment it sends carries
//! `__tcp_select_window`'s answer (net/ipv4/tcp_output.c): the free receive buffer, converted
//! from memory to payload by the socket's `scaling_ratio`, capped by `rcv_ssthresh`, rounded up
//! to the window scale, and never less than what was offered already. `rcv_ssthresh` starts one
//! segment below the full space and grows as data arrives (`tcp_grow_window`,
//! net/ipv4/tcp_input.c); `scaling_ratio` is learnt from the first segments' payload against
//! their memory (`tcp_measure_rcv_mss`). The memory a segment holds is its `truesize`, which
//! depends on the kernel's `struct sk_buff`; `SKB_OVERHEAD` is what this kernel charges beyond
//! the payload, measured with `ss -tm` (traces/kernel/rcvbuf/README.md).
//!
//! Receive-buffer autotuning (`tcp_rcv_space_adjust`, which raises `sk_rcvbuf` once a program
//! reads more than a window's worth in a round trip) is not modelled: the labs' transfers stay
//! within the first 131072 bytes of buffer.

/// What a queued segment costs beyond its payload (`skb->truesize - skb->len` for a segment
/// that came over a veth: 72 bytes are charged 904, 1448 bytes 2280).
pub const SKB_OVERHEAD: u32 = 832;
/// The memory a segment of `len` bytes holds while queued (`skb->truesize`).
pub fn truesize(len: usize) -> u32 {
    len as u32 + SKB_OVERHEAD
}

/// `sk_rcvbuf` of a new socket (`net.ipv4.tcp_rmem[1]`).
const RCVBUF: u32 = 131072;
/// `net.ipv4.tcp_rmem[2]`, 32 MiB since Linux 6.16.
const RMEM_MAX: u32 = 33554432;
/// Payload per unit of memory, in 256ths (`TCP_RMEM_TO_WIN_SCALE`), before any segment was
/// measured (`TCP_DEFAULT_SCALING_RATIO`: half).
const RMEM_TO_WIN_SCALE: u32 = 8;
const DEFAULT_SCALING_RATIO: u32 = 1 << (RMEM_TO_WIN_SCALE - 1);
/// The first guess at the peer's segment size (`TCP_MIN_RCVMSS`, `tcp_initialize_rcv_mss`).
const TCP_MIN_RCVMSS: u32 = 536;
/// `tcp_grow_window` is called only for segments at least this long (`tcp_event_data_recv`).
const GROW_MIN_LEN: u32 = 128;

/// One connection's receive buffer, as far as the window it advertises depends on it.
#[derive(Clone, Debug)]
pub struct RcvBuf {
    /// The window last advertised, in bytes (`tp->rcv_wnd`): the SYN's until the handshake
    /// completes.
    pub wnd: u32,
    /// `rcv_nxt` when it was advertised (`tp->rcv_wup`).
    wup: u32,
    /// The shift the peer agreed to (`rx_opt.rcv_wscale`): 0 until established, or if the
    /// peer offered no window scaling.
    wscale: u8,
    ssthresh: u32,
    clamp: u32,
    ratio: u32,
    rcv_mss: u32,
    /// Our MSS less the timestamp option when it is on (`tp->advmss`).
    advmss: u32,
    /// The memory the queued segments hold (`sk_rmem_alloc`): the out-of-order queue and
    /// what the program has not read yet.
    pub rmem: u32,
}

impl RcvBuf {
    /// A socket that offers `initial` in its SYN or SYN-ACK (`tcp_select_initial_window`:
    /// `rcv_ssthresh` starts at it, no clamp yet).
    pub fn new(initial: u32) -> Self {
        RcvBuf {
            wnd: initial,
            wup: 0,
            wscale: 0,
            ssthresh: initial,
            clamp: u32::from(u16::MAX) << 14,
            ratio: DEFAULT_SCALING_RATIO,
            rcv_mss: TCP_MIN_RCVMSS,
            advmss: 0,
            rmem: 0,
        }
    }

    /// The handshake is done (`tcp_init_buffer_space`, `tcp_initialize_rcv_mss`): the clamp is
    /// the full space less one segment reserved for the program ("force reservation of one
    /// segment", 64088 for an advmss of 1448), and `rcv_ssthresh` no more than it.
    pub fn established(&mut self, rcv_nxt: u32, advmss: u16, wscale: u8) {
        self.advmss = u32::from(advmss);
        self.wscale = wscale;
        self.wup = rcv_nxt;
        let maxwin = self.full_space();
        if self.clamp >= maxwin {
            self.clamp = maxwin;
        }
        if self.clamp > 2 * self.advmss && self.clamp + self.advmss > maxwin {
            self.clamp = (2 * self.advmss).max(maxwin - self.advmss);
        }
        self.ssthresh = self.ssthresh.min(self.clamp);
        self.rcv_mss = self.advmss.min(self.wnd / 2).clamp(88, TCP_MIN_RCVMSS);
    }

    fn win_from_space(&self, space: u32) -> u32 {
        ((u64::from(space) * u64::from(self.ratio)) >> RMEM_TO_WIN_SCALE) as u32
    }

    fn full_space(&self) -> u32 {
        self.win_from_space(RCVBUF)
    }

    /// `tcp_space`: the free buffer, as payload.
    fn space(&self) -> u32 {
        self.win_from_space(RCVBUF.saturating_sub(self.rmem))
    }

    /// A segment carrying `len` bytes was queued, `in_order` or into the out-of-order queue;
    /// its memory is in `rmem` already. `tcp_measure_rcv_mss` learns the ratio from a segment
    /// at least as long as the last guess (out-of-order ones too, since Linux 6.16), and
    /// `tcp_grow_window` raises `rcv_ssthresh` by two segments (or twice this one) as far as
    /// the buffer allows; out of order only when SACK is on, so that a receiver without it
    /// keeps sending the duplicate ACKs fast retransmit needs.
    pub fn data_queued(&mut self, len: u32, in_order: bool, sack: bool) {
        if len == 0 {
            return;
        }
        let truesize = len + SKB_OVERHEAD;
        if len >= self.rcv_mss {
            if len != self.rcv_mss {
                let ratio = ((u64::from(len) << RMEM_TO_WIN_SCALE) / u64::from(truesize)).max(1) as u32;
                if ratio != self.ratio {
                    self.ratio = ratio;
                    self.set_clamp(self.full_space());
                }
            }
            self.rcv_mss = len.min(self.advmss.max(1));
        }
        if !(in_order || sack) || len < GROW_MIN_LEN {
            return;
        }
        let room = i64::from(self.clamp.min(self.space())) - i64::from(self.ssthresh);
        if room <= 0 {
            return;
        }
        // `truesize_adjust`: a segment queued in order is judged by its payload's pages alone,
        // the head it arrived in being freed or shared once it is coalesced.
        let judged = if in_order { len } else { truesize };
        let incr = if self.win_from_space(judged) <= len { 2 * self.advmss } else { self.grow_slowly(len, judged) };
        if incr > 0 {
            let incr = incr.max(2 * len);
            self.ssthresh += (room as u32).min(incr);
        }
    }

    /// `__tcp_grow_window`: a segment whose memory is large for its payload grows the window
    /// only while `rcv_ssthresh` is small against the largest buffer.
    fn grow_slowly(&self, len: u32, truesize: u32) -> u32 {
        let mut truesize = self.win_from_space(truesize) >> 1;
        let mut window = self.win_from_space(RMEM_MAX) >> 1;
        while self.ssthresh <= window {
            if truesize <= len {
                return 2 * self.rcv_mss;
            }
            truesize >>= 1;
            window >>= 1;
        }
        0
    }

    /// `tcp_set_window_clamp` after the ratio changed: a larger clamp lets `rcv_ssthresh`
    /// rise to the window already offered; a smaller one lowers it.
    fn set_clamp(&mut self, clamp: u32) {
        let old = std::mem::replace(&mut self.clamp, clamp.max(SOCK_MIN_RCVBUF / 2));
        if self.clamp < old {
            self.ssthresh = self.ssthresh.min(self.clamp);
        } else {
            self.ssthresh = self.ssthresh.max(self.wnd.min(self.clamp));
        }
    }

    /// The window field of a segment sent now with `rcv_nxt` (`tcp_select_window`): the
    /// window in bytes and the field, scaled. `advertised` records it once the segment goes.
    pub fn select(&self, rcv_nxt: u32) -> u16 {
        let cur = (self.wup.wrapping_add(self.wnd).wrapping_sub(rcv_nxt) as i32).max(0) as u32;
        let mut new = self.select_free();
        if new < cur {
            // Never shrink the offered window (`net.ipv4.tcp_shrink_window` is 0).
            new = align(cur, self.wscale);
        }
        (new >> self.wscale).min(u32::from(u16::MAX)) as u16
    }

    /// `__tcp_select_window`.
    fn select_free(&self) -> u32 {
        let allowed = self.full_space();
        let full = self.clamp.min(allowed);
        let mss = self.rcv_mss.min(full);
        let mut free = self.space();
        if free < full >> 1 {
            free &= !((1u32 << self.wscale) - 1);
            if free < allowed >> 4 || free < mss {
                return 0;
            }
        }
        free = free.min(self.ssthresh);
        if self.wscale > 0 {
            return align(free, self.wscale);
        }
        // Without scaling: whole segments, kept while within one of the free space.
        if self.wnd + mss <= free || self.wnd > free { free / mss.max(1) * mss } else { self.wnd }
    }

    /// A segment left advertising `field` (scaled) at `ack`.
    pub fn advertised(&mut self, field: u16, ack: u32) {
        self.wnd = u32::from(field) << self.wscale;
        self.wup = ack;
    }
}

/// `SOCK_MIN_RCVBUF` (include/net/sock.h: 2048 and `TCP_SKB_MIN_TRUESIZE`, 2048 and an
/// aligned `struct sk_buff`): a clamp is at least half of it.
const SOCK_MIN_RCVBUF: u32 = 2048 + 2048 + 256;

fn align(x: u32, wscale: u8) -> u32 {
    let unit = 1u32 << wscale;
    x.div_ceil(unit) * unit
}

#[cfg(test)]
mod tests;
