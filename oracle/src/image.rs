//! The one image every container of an oracle run uses: the `netsim` binary (whose hidden
//! `agent` subcommand runs a scenario process on real sockets) and the shared libraries it
//! links, imported from a tar (`docker import`): no registry is needed.

use std::path::{Path, PathBuf};

use crate::engine::{self, docker};
use crate::{Error, LABEL};

/// The image's name; the binary sits at `/netsim` inside it.
pub const IMAGE: &str = "netsim-oracle-agent:latest";
pub const AGENT: &str = "/netsim";
/// Where Debian's busybox-static puts its binary, and the programs the image takes from it.
const BUSYBOX: &str = "/bin/busybox";
const APPLETS: [&str; 3] = ["cat", "hostname", "ip"];

/// Builds the image from `exe`. The tar is made in a temporary folder that is removed again.
pub fn build(exe: &Path) -> Result<(), Error> {
    let dir = std::env::temp_dir().join(format!("nsim-oracle-image-{}", std::process::id()));
    let res = build_in(exe, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    res
}

fn build_in(exe: &Path, dir: &Path) -> Result<(), Error> {
    let io = |what: &str, e: std::io::Error| Error::Command { what: what.into(), msg: e.to_string() };
    let root = dir.join("root");
    std::fs::create_dir_all(&root).map_err(|e| io("image", e))?;
    // Debug info makes the binary ten times larger; the agent does not need it.
    let bin = root.join("netsim");
    let stripped = engine::run("objcopy", &["--strip-debug", &exe.to_string_lossy(), &bin.to_string_lossy()]);
    if !stripped.as_ref().is_ok_and(|r| r.ok()) {
        std::fs::copy(exe, &bin).map_err(|e| io("image: copy the agent", e))?;
    }
    for lib in shared_libs(exe)? {
        let to = root.join(lib.strip_prefix("/").unwrap_or(&lib));
        if let Some(p) = to.parent() {
            std::fs::create_dir_all(p).map_err(|e| io("image", e))?;
        }
        std::fs::copy(&lib, &to).map_err(|e| io(&format!("image: copy {}", lib.display()), e))?;
    }
    // What a container expects to find (resolv.conf and hosts are bind-mounted over these).
    std::fs::create_dir_all(root.join("etc")).map_err(|e| io("image", e))?;
    std::fs::create_dir_all(root.join("tmp")).map_err(|e| io("image", e))?;
    // `cat` and `hostname` print what Docker wrote into the container (its hosts, resolv.conf
    // and hostname files), and `ip` the links, addresses and routes Docker gave it, which the
    // engine should judge as the simulator prints them; a static busybox (Debian's
    // busybox-static) runs them, so `ip` prints as alpine's busybox does, not as iproute2.
    // Other programs run through the agent.
    if Path::new(BUSYBOX).is_file() {
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin).map_err(|e| io("image", e))?;
        std::fs::copy(BUSYBOX, bin.join("busybox")).map_err(|e| io("image: copy busybox", e))?;
        for applet in APPLETS {
            std::os::unix::fs::symlink("busybox", bin.join(applet)).map_err(|e| io("image", e))?;
        }
    }
    let tar = dir.join("image.tar");
    let r = engine::run("tar", &["-C", &root.to_string_lossy(), "-cf", &tar.to_string_lossy(), "."])?;
    if !r.ok() {
        return Err(Error::Command { what: "tar".into(), msg: r.stderr });
    }
    docker(&["import", "--change", &format!("LABEL {LABEL}"), &tar.to_string_lossy(), IMAGE])?;
    Ok(())
}

/// The libraries `ldd` lists for `exe`, with the dynamic loader.
fn shared_libs(exe: &Path) -> Result<Vec<PathBuf>, Error> {
    let r = engine::run("ldd", &[&exe.to_string_lossy()])?;
    if !r.ok() {
        // A static binary: `ldd` says "not a dynamic executable".
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for l in r.stdout.lines() {
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or "/lib64/ld-linux-x86-64.so.2 (0x…)"
        let path = match l.split_once("=>") {
            Some((_, rest)) => rest.split_whitespace().next(),
            None => l.split_whitespace().next().filter(|p| p.starts_with('/')),
        };
        if let Some(p) = path.filter(|p| p.starts_with('/')) {
            out.push(PathBuf::from(p));
        }
    }
    Ok(out)
}
