//! Capturing every interface of a set of network namespaces, as tcpdump would, into frames
//! named `namespace/interface` like the simulator's pcapng.
//!
//! One thread per namespace enters it (`setns` only moves the calling thread), opens an
//! AF_PACKET socket for all protocols there, and reads until told to stop. Each frame is seen
//! once per interface it leaves and once per interface it arrives on; lo only delivers the
//! arriving copy (libpcap drops the outgoing one), as the simulator's capture does.
//!
//! A frame's time is the kernel's (`SO_TIMESTAMPNS`, socket(7)): taken where the packet tap
//! saw it, as tcpdump's is, not when this thread got round to reading it. Readers of
//! different namespaces run on different CPUs and read in batches, so a time read from
//! the clock on receipt would order a veth's two ends backwards.

use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use socket2::{Domain, Protocol, Socket, Type};

/// ETH_P_ALL, in network byte order as AF_PACKET wants it.
const ETH_P_ALL: u16 = 0x0003;
/// sll_pkttype: the frame was sent by this host.
const PACKET_OUTGOING: u8 = 4;

/// One captured frame.
#[derive(Clone, Debug)]
pub struct Frame {
    /// Since the capture started.
    pub at: Duration,
    /// The plan's namespace name.
    pub ns: String,
    pub ifname: String,
    pub outgoing: bool,
    pub bytes: Vec<u8>,
}

pub struct Capture {
    stop: Arc<AtomicBool>,
    t0: Start,
    threads: Vec<Reader>,
    /// What the readers of namespaces removed during the run captured.
    done: Vec<Frame>,
}

/// When the capture started: on the monotonic clock, for how long it ran, and on the real-time
/// clock, which the kernel's packet timestamps are read on.
#[derive(Clone, Copy)]
struct Start {
    mono: Instant,
    real: SystemTime,
}

impl Start {
    fn now() -> Start {
        Start { mono: Instant::now(), real: SystemTime::now() }
    }

    fn elapsed(&self) -> Duration {
        self.mono.elapsed()
    }

    /// A kernel timestamp as time since the start (zero for one before it).
    fn since(&self, ts: nix::sys::time::TimeSpec) -> Duration {
        let at = SystemTime::UNIX_EPOCH + Duration::new(ts.tv_sec() as u64, ts.tv_nsec() as u32);
        at.duration_since(self.real).unwrap_or_default()
    }
}

/// One namespace's reader: a thread that entered the namespace and holds a socket there.
/// Both keep the namespace alive (a socket holds a reference to its network namespace, and
/// so does a thread's nsproxy): a namespace a step removes goes only once its reader ends.
struct Reader {
    ns: String,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<std::io::Result<Vec<Frame>>>,
}

impl Capture {
    /// Starts capturing in each (plan namespace name, /var/run/netns path) pair. Returns once
    /// every socket is open, so no frame sent afterwards is missed.
    pub fn start(namespaces: &[(String, PathBuf)]) -> std::io::Result<Capture> {
        let stop = Arc::new(AtomicBool::new(false));
        let t0 = Start::now();
        let mut threads = Vec::new();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<std::io::Result<()>>();
        for (ns, path) in namespaces {
            let stops = (stop.clone(), Arc::new(AtomicBool::new(false)));
            let own = stops.1.clone();
            let ready = ready_tx.clone();
            let (name, path) = (ns.clone(), path.clone());
            let thread = std::thread::spawn(move || {
                let sock = match open_in(&path) {
                    Ok(s) => {
                        let _ = ready.send(Ok(()));
                        s
                    }
                    Err(e) => {
                        let _ = ready.send(Err(std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))));
                        return Err(e);
                    }
                };
                read_until(&sock, &name, t0, &stops)
            });
            threads.push(Reader { ns: ns.clone(), stop: own, thread });
        }
        drop(ready_tx);
        for r in ready_rx.iter().take(namespaces.len()) {
            r?;
        }
        Ok(Capture { stop, t0, threads, done: Vec::new() })
    }

    /// Also captures a namespace made after the start (a Docker step's new sandbox).
    pub fn add(&mut self, ns: &str, path: PathBuf) -> std::io::Result<()> {
        let own = Arc::new(AtomicBool::new(false));
        let (stops, name, t0) = ((self.stop.clone(), own.clone()), ns.to_string(), self.t0);
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let sock = match open_in(&path) {
                Ok(s) => {
                    let _ = tx.send(Ok(()));
                    s
                }
                Err(e) => {
                    let _ = tx.send(Err(std::io::Error::new(e.kind(), e.to_string())));
                    return Err(e);
                }
            };
            read_until(&sock, &name, t0, &stops)
        });
        self.threads.push(Reader { ns: ns.to_string(), stop: own, thread });
        rx.recv().map_err(|_| std::io::Error::other("capture thread ended"))?
    }

    /// Stops capturing in a namespace a step is about to remove, keeping what it captured,
    /// so that the reader does not keep the namespace (and its devices, a veth's host side
    /// among them) alive after it is deleted.
    pub fn remove(&mut self, ns: &str) -> std::io::Result<()> {
        let (gone, kept): (Vec<Reader>, Vec<Reader>) =
            std::mem::take(&mut self.threads).into_iter().partition(|r| r.ns == ns);
        self.threads = kept;
        for r in &gone {
            r.stop.store(true, Ordering::Relaxed);
        }
        for r in gone {
            self.done.extend(r.thread.join().map_err(|_| std::io::Error::other("capture thread panicked"))??);
        }
        Ok(())
    }

    /// Stops (after draining what the sockets hold) and returns the frames in time order.
    pub fn stop(self) -> std::io::Result<Vec<Frame>> {
        self.stop_ended().map(|(frames, _)| frames)
    }

    /// [`stop`](Self::stop), also saying when, since the start, the capture stopped looking:
    /// a frame that was not captured by then was not sent by then.
    pub fn stop_ended(self) -> std::io::Result<(Vec<Frame>, Duration)> {
        // Frames still in flight reach the sockets within microseconds; give them a moment.
        std::thread::sleep(Duration::from_millis(100));
        let ended = self.t0.elapsed();
        self.stop.store(true, Ordering::Relaxed);
        let mut all = self.done;
        for r in self.threads {
            all.extend(r.thread.join().map_err(|_| std::io::Error::other("capture thread panicked"))??);
        }
        all.sort_by_key(|f| f.at);
        Ok((all, ended))
    }
}

/// An AF_PACKET socket opened inside the namespace at `path` (this thread stays there).
fn open_in(path: &PathBuf) -> std::io::Result<Socket> {
    let f = std::fs::File::open(path)?;
    nix::sched::setns(f.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).map_err(std::io::Error::from)?;
    let s = Socket::new(Domain::PACKET, Type::RAW, Some(Protocol::from(ETH_P_ALL.to_be() as i32)))?;
    s.set_read_timeout(Some(Duration::from_millis(20)))?;
    nix::sys::socket::setsockopt(&s, nix::sys::socket::sockopt::ReceiveTimestampns, &true)
        .map_err(std::io::Error::from)?;
    Ok(s)
}

/// Reads until either flag is set: the whole capture's or this namespace's own.
fn read_until(
    sock: &Socket,
    ns: &str,
    t0: Start,
    (all, own): &(Arc<AtomicBool>, Arc<AtomicBool>),
) -> std::io::Result<Vec<Frame>> {
    let mut frames = Vec::new();
    let mut names: Vec<(u32, String)> = Vec::new();
    let mut buf = vec![0u8; 65536];
    let mut cmsg = nix::cmsg_space!(nix::sys::time::TimeSpec);
    loop {
        let got = {
            let mut iov = [std::io::IoSliceMut::new(&mut buf)];
            nix::sys::socket::recvmsg::<nix::sys::socket::LinkAddr>(
                sock.as_raw_fd(),
                &mut iov,
                Some(&mut cmsg),
                nix::sys::socket::MsgFlags::empty(),
            )
            .map(|m| {
                let stamp = m.cmsgs().ok().and_then(|mut c| {
                    c.find_map(|c| match c {
                        nix::sys::socket::ControlMessageOwned::ScmTimestampns(ts) => Some(ts),
                        _ => None,
                    })
                });
                let at = stamp.map_or_else(|| t0.elapsed(), |ts| t0.since(ts));
                (m.bytes, m.address.map_or((0, 0), |a| (a.ifindex() as u32, a.pkttype())), at)
            })
        };
        match got {
            Ok((n, (ifindex, pkttype), at)) => {
                let bytes = buf[..n].to_vec();
                let ifname = match names.iter().find(|(i, _)| *i == ifindex) {
                    Some((_, n)) => n.clone(),
                    None => {
                        let n = nix::net::if_::if_indextoname(ifindex)
                            .map(|c| c.to_string_lossy().into_owned())
                            .unwrap_or_else(|_| format!("if{ifindex}"));
                        names.push((ifindex, n.clone()));
                        n
                    }
                };
                let outgoing = pkttype == PACKET_OUTGOING;
                if ifname == "lo" && outgoing {
                    continue;
                }
                frames.push(Frame { at, ns: ns.to_string(), ifname, outgoing, bytes });
                // A namespace about to go may still be busy: its reader stops between frames,
                // not only once it is quiet.
                if own.load(Ordering::Relaxed) {
                    return Ok(frames);
                }
            }
            Err(nix::errno::Errno::EINTR) => {}
            Err(nix::errno::Errno::EAGAIN) => {
                if all.load(Ordering::Relaxed) || own.load(Ordering::Relaxed) {
                    return Ok(frames);
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::Command;

    fn ip(args: &[&str]) {
        let out = Command::new("ip").args(args).output().expect("ip runs (iproute2; the tests run as root)");
        assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Two throw-away namespaces, a veth between them, one ping: the capture sees the echo
    /// request leave one end and arrive at the other, named as the simulator names them.
    #[test]
    fn captures_both_ends_of_a_veth() {
        let euid = nix::unistd::geteuid();
        if !euid.is_root() {
            // Straight to stderr: the test harness would keep an `eprintln!` of a passing test.
            let _ = writeln!(
                std::io::stderr(),
                "SKIP captures_both_ends_of_a_veth: needs root (euid {euid}): it makes two namespaces"
            );
            return;
        }
        let (a, b) =
            (format!("nsimtest-cap-a-{}", std::process::id()), format!("nsimtest-cap-b-{}", std::process::id()));
        ip(&["netns", "add", &a]);
        ip(&["netns", "add", &b]);
        let cleanup = || {
            let _ = Command::new("ip").args(["netns", "del", &a]).status();
            let _ = Command::new("ip").args(["netns", "del", &b]).status();
        };
        let res = std::panic::catch_unwind(|| {
            ip(&["link", "add", "eth0", "netns", &a, "type", "veth", "peer", "name", "eth0", "netns", &b]);
            ip(&["-n", &a, "addr", "add", "10.77.0.1/24", "dev", "eth0"]);
            ip(&["-n", &b, "addr", "add", "10.77.0.2/24", "dev", "eth0"]);
            ip(&["-n", &a, "link", "set", "eth0", "up"]);
            ip(&["-n", &b, "link", "set", "eth0", "up"]);
            let cap = Capture::start(&[
                ("a".into(), PathBuf::from(format!("/var/run/netns/{a}"))),
                ("b".into(), PathBuf::from(format!("/var/run/netns/{b}"))),
            ])
            .expect("capture starts");
            // An ICMP echo by hand from a thread inside namespace a: the test needs no ping binary.
            let path = PathBuf::from(format!("/var/run/netns/{a}"));
            std::thread::spawn(move || {
                let f = std::fs::File::open(&path).expect("netns file");
                nix::sched::setns(f.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
                let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4)).expect("raw socket");
                let mut p = vec![8u8, 0, 0, 0, 0, 7, 0, 1, b'n', b'e', b't', b's', b'i', b'm'];
                let c = sim_core::wire::ipv4::checksum(&p);
                p[2..4].copy_from_slice(&c.to_be_bytes());
                let to: std::net::SocketAddr = "10.77.0.2:0".parse().expect("addr");
                s.send_to(&p, &to.into()).expect("send");
                s.set_read_timeout(Some(Duration::from_secs(2))).expect("timeout");
                let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 128];
                s.recv(&mut buf).expect("the echo reply");
            })
            .join()
            .expect("sender thread");
            let frames = cap.stop().expect("capture stops");
            let icmp = |f: &&Frame| f.bytes.len() > 34 && f.bytes[12..14] == [0x08, 0x00] && f.bytes[23] == 1;
            let seen: Vec<(String, String, bool, u8)> =
                frames.iter().filter(icmp).map(|f| (f.ns.clone(), f.ifname.clone(), f.outgoing, f.bytes[34])).collect();
            assert!(seen.contains(&("a".into(), "eth0".into(), true, 8)), "request leaves a/eth0: {seen:?}");
            assert!(seen.contains(&("b".into(), "eth0".into(), false, 8)), "request arrives at b/eth0: {seen:?}");
            assert!(seen.contains(&("b".into(), "eth0".into(), true, 0)), "reply leaves b/eth0: {seen:?}");
            assert!(seen.contains(&("a".into(), "eth0".into(), false, 0)), "reply arrives at a/eth0: {seen:?}");
            // The kernel's timestamps order the two namespaces' copies as the packets went:
            // each reader's own clock, read when it got round to the frame, would not.
            let at = |ns: &str, outgoing: bool, kind: u8| {
                frames
                    .iter()
                    .filter(icmp)
                    .find(|f| f.ns == ns && f.outgoing == outgoing && f.bytes[34] == kind)
                    .map(|f| f.at)
            };
            let times = [at("a", true, 8), at("b", false, 8), at("b", true, 0), at("a", false, 0)];
            assert!(times.windows(2).all(|w| w[0] <= w[1]), "request out, in, reply out, in: {times:?}");
        });
        cleanup();
        if let Err(p) = res {
            std::panic::resume_unwind(p);
        }
    }
}
