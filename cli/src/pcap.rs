//! pcapng output of a run: one interface block per captured device, named `ns/iface`,
//! created the first time the device carries a frame; each packet's comment is the chain of
//! reasons that produced it. `-` is standard output, as for `tcpdump -w -`, so a run can be
//! piped into `wireshark -k -i -`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use miette::{Result, miette};
use sim_core::World;
use sim_core::capture::{Direction, PcapngWriter};
use sim_core::kernel::DevId;
use sim_core::kernel::trace::{Dir, Record, Texts};

pub struct Writer {
    inner: PcapngWriter<BufWriter<Box<dyn Write>>>,
    ids: HashMap<DevId, u32>,
    frames: u64,
    path: PathBuf,
    /// The packet comment, made in one buffer kept across packets.
    comment: String,
    /// Each reason's text, made once.
    texts: Texts,
    /// `--once`: the packets written so far, to skip their later copies.
    once: Option<sim_core::capture::Once>,
}

impl Writer {
    pub fn create(path: &Path, once: bool) -> Result<Writer> {
        let out = open(path)?;
        let inner = PcapngWriter::new(BufWriter::new(out), concat!("netsim ", env!("CARGO_PKG_VERSION")))
            .map_err(|e| miette!("--pcap {}: {e}", path.display()))?;
        Ok(Writer {
            inner,
            ids: HashMap::new(),
            frames: 0,
            path: path.to_path_buf(),
            comment: String::new(),
            texts: Texts::default(),
            once: once.then(sim_core::capture::Once::default),
        })
    }

    pub fn write(&mut self, w: &World, recs: &[Record]) -> Result<()> {
        for r in recs {
            let (Some(dev), Some(frame), Dir::Tx | Dir::Rx) = (r.dev, r.frame.as_ref(), r.dir) else { continue };
            // On lo, libpcap drops the outgoing copy: each packet appears once, as it arrives.
            if r.dir == Dir::Tx && matches!(w.dev(dev).kind, sim_core::kernel::DevKind::Loopback) {
                continue;
            }
            if let Some(once) = &mut self.once
                && once.repeat(frame, r.time.as_nanos())
            {
                continue;
            }
            let id = match self.ids.get(&dev) {
                Some(id) => *id,
                None => {
                    let d = w.dev(dev);
                    let desc = format!("{} {} (ifindex {})", d.kind.type_name(), d.mac, d.ifindex);
                    let id = self
                        .inner
                        .add_interface(&w.dev_path(dev), Some(&desc))
                        .map_err(|e| miette!("{}: {e}", self.path.display()))?;
                    self.ids.insert(dev, id);
                    id
                }
            };
            // Reasons become text here and nowhere before.
            let comment = if r.why.is_empty() {
                None
            } else {
                let mut num = itoa::Buffer::new();
                self.comment.clear();
                self.comment.push_str("event ");
                self.comment.push_str(num.format(r.event.0));
                if let Some(c) = r.cause {
                    self.comment.push_str(" caused by ");
                    self.comment.push_str(num.format(c.0));
                }
                for why in &r.why {
                    self.comment.push_str("; ");
                    self.comment.push_str(self.texts.get(why, w));
                }
                Some(self.comment.as_str())
            };
            self.inner
                .write_frame_dir(id, r.time.as_nanos(), frame, comment, Some(direction(r.dir)))
                .map_err(|e| miette!("{}: {e}", self.path.display()))?;
            self.frames += 1;
        }
        Ok(())
    }

    pub fn finish(self) -> Result<u64> {
        let path = self.path.clone();
        self.inner.finish().map_err(|e| miette!("{}: {e}", path.display()))?;
        Ok(self.frames)
    }
}

/// Whether `--pcap` names standard output.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Where `--pcap` writes: `-` for standard output (not a terminal: pcapng is binary), or a
/// file, created or truncated.
pub fn open(path: &Path) -> Result<Box<dyn Write>> {
    if is_stdout(path) {
        if std::io::stdout().is_terminal() {
            return Err(miette!(
                help = "pipe it, e.g. `netsim run lab.ron --pcap - | wireshark -k -i -`, or give a file name",
                "--pcap -: standard output is a terminal, and pcapng is binary"
            ));
        }
        return Ok(Box::new(QuietOnClose(std::io::stdout())));
    }
    if path.is_dir() {
        return Err(miette!(help = "give a file name, e.g. out.pcapng", "--pcap {}: is a directory", path.display()));
    }
    let f = File::create(path).map_err(|e| {
        miette!(
            help = "check that the directory exists and is writable",
            "--pcap {}: cannot create the file: {e}",
            path.display()
        )
    })?;
    Ok(Box::new(f))
}

/// Refuses a `--pcap` that is the scenario file itself (by another name, a symbolic or a
/// hard link too): creating the capture would truncate the file being run.
pub fn check_not_input(pcap: &Path, scenario: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    if is_stdout(pcap) {
        return Ok(());
    }
    let same = match (std::fs::metadata(pcap), std::fs::metadata(scenario)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    };
    if same {
        return Err(miette!(
            help = "give the capture its own name, e.g. out.pcapng",
            "--pcap {} is the scenario file {}: writing the capture would overwrite it",
            pcap.display(),
            scenario.display()
        ));
    }
    Ok(())
}

/// Standard output that ends the program quietly once the reader has gone (`… --pcap - |
/// head -c 100`), as the hop log does and as `tcpdump -w -` ends on SIGPIPE.
struct QuietOnClose<W>(W);

impl<W: Write> Write for QuietOnClose<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf).inspect_err(quit_on_broken_pipe)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush().inspect_err(quit_on_broken_pipe)
    }
}

fn quit_on_broken_pipe(e: &std::io::Error) {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
}

fn direction(d: Dir) -> Direction {
    if d == Dir::Tx { Direction::Outbound } else { Direction::Inbound }
}
