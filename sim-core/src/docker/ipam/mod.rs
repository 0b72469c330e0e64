//! Docker Engine's built-in IPAM driver (`default`), IPv4 only, as in **Docker v28/v29**
//! (the "linear allocator", first shipped in v27.0.0, moby commit 9d288b5b43); with
//! [`Ipam::set_round_robin`], ≤ v26's rotating choice of dynamic subnets (Docker 20.10).
//!
//! Behaviour: docs/docker-model.md, *IPAM* (sections in *italics* below are there); moby paths
//! (`LN/` = `libnetwork/`): `LN/ipams/defaultipam/{allocator.go,address_space.go}`,
//! `LN/internal/addrset/addrset.go`, `LN/bitmap/sequence.go`, `LN/network.go`
//! (ipamAllocateVersion / ipamReleaseVersion),
//! `api/types/network/ipam.go` (create-time validation) and `LN/ipamutils/utils.go`.
//!
//! # What is modelled
//! * Two address spaces, `LocalDefault` ([`AddressSpace::Local`]) and `GlobalDefault`
//!   ([`AddressSpace::Global`]), each with its predefined pool list ([`PoolSpec`]); defaults are
//!   Docker's (31 local subnets, 10.0.0.0/8 in /24s for swarm), overridable like
//!   `dockerd --default-address-pool` ([`PoolSpec::parse_daemon_opt`]) and
//!   `docker swarm init --default-addr-pool … --default-addr-pool-mask-length …`
//!   ([`PoolSpec::swarm_default_addr_pools`]).
//! * [`Ipam::request_pool`] = libnetwork's `ipamAllocateVersion` for one IPv4 config: the
//!   driver's `RequestPool` (explicit subnet with the same-address-space overlap check and the
//!   `--ip-range` quirk of moby#46756, or the lowest free predefined subnet that overlaps no
//!   allocated pool and no reserved prefix), then the gateway (`--gateway`, else the first free
//!   address of the pool or of the `--ip-range`, or none when `skip_gateway`), then the
//!   `--aux-address`es.
//! * [`Ipam::request_address`] / [`Ipam::release_address`]: lowest free address searched from
//!   the bottom each time for local networks; round-robin after the last dynamic allocation,
//!   wrapping, for `serial` (swarm) networks; `--ip-range` restricts dynamic allocation only.
//! * [`Ipam::status`] = `Status.IPAM.Subnets.<cidr>` of `docker network inspect` (v29).
//! * [`Ipam::validate`] = the create-time checks whose errors start with
//!   `invalid network config:`.
//!
//! # Choices where Docker's documentation is silent (all taken from the moby source)
//! * A static address request (`--ip`) is checked against the **parent subnet only**
//!   (`address_space.go` requestAddress uses `nw.Contains`): an address outside the
//!   `--ip-range` but inside `--subnet` is accepted; outside the subnet it fails with
//!   `requested address is out of range`.
//! * The `--ip-range` allocation may hand out the range's own first and last addresses
//!   (e.g. `172.28.30.0` becomes the gateway of `--subnet 172.28.0.0/16 --ip-range
//!   172.28.30.0/24`, and `172.28.30.255` is allocatable); only the parent's network and
//!   broadcast addresses are reserved.
//! * Two networks may share one subnet when each has a different `--ip-range` (or the first
//!   has none and the later ones have one): they share one address set, exactly like moby's
//!   `PoolData.children`. The pool disappears when its last user releases it.
//! * The serial cursor is per pool (moby's `Bitmap.curr`); every dynamic allocation (also the
//!   gateway's, also non-serial ones) moves it; static requests do not.
//! * On a failed `request_pool` (gateway or aux address refused) only the pool is released,
//!   as libnetwork does; in a shared pool an already reserved gateway/aux address leaks, as in
//!   Docker.
//! * Releasing an address that is not allocated is not an error (moby's bitmap ignores it).
//! * Reserved prefixes passed to [`Ipam::request_pool`] are ignored for the global (swarm)
//!   space: libnetwork computes them only for non-swarm-scope networks.
//! * Aux addresses are reserved in the given order (Docker iterates a Go map: random order).
//! * IPv6 (ULA pools, `--ipv6`, subnet-router anycast) is out of scope.
//!
//! Everything is deterministic: ordered maps only, no randomness.

mod addrset;
mod prefix;
#[cfg(test)]
mod tests;

pub use self::prefix::{Ipv4Net, PrefixParseError, checked, parse_cidr, parse_ipv4};

use self::addrset::AddrSet;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::Ipv4Addr;

// ---------------------------------------------------------------------------------------
// Error strings (LN/ipamapi/contract.go unless noted)
// ---------------------------------------------------------------------------------------

/// `ipamapi.ErrPoolOverlap`.
pub const ERR_POOL_OVERLAP: &str = "Pool overlaps with other one on this address space";
/// `ipamapi.ErrIPAlreadyAllocated`.
pub const ERR_IP_ALREADY_ALLOCATED: &str = "Address already in use";
/// `ipamapi.ErrIPOutOfRange`.
pub const ERR_IP_OUT_OF_RANGE: &str = "requested address is out of range";
/// `ipamapi.ErrNoAvailableIPs`.
pub const ERR_NO_AVAILABLE_IPS: &str = "no available addresses on this pool";
/// `ipamapi.ErrNoMoreSubnets` (v27+; ≤ v26 said something else, see *Picking a subnet*).
pub const ERR_NO_MORE_SUBNETS: &str = "all predefined address pools have been fully subnetted";
/// ≤ v26's exhaustion error (`v24.0.0:libnetwork/network.go` ipamAllocateVersion).
pub const ERR_NO_MORE_SUBNETS_V26: &str =
    "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network";
/// `ipamapi.ErrBadPool`.
pub const ERR_BAD_POOL: &str = "address space does not contain specified address pool";
/// `ipamapi.ErrInvalidSubPool`.
pub const ERR_INVALID_SUBPOOL: &str = "invalid address subpool";
/// `daemon/container_operations.go`: `--ip` on the default bridge (for callers; not raised here).
pub const ERR_USER_IP_ON_DEFAULT_BRIDGE: &str = "user-specified IP address is supported on user-defined networks only";

/// Docker's error class (`errdefs`), i.e. the HTTP status the API would answer with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorKind {
    /// 400
    InvalidParameter,
    /// 403
    Forbidden,
    /// 404
    NotFound,
    /// 503
    Unavailable,
    /// 500
    Internal,
}

/// An IPAM error. `Display` (and `message`) is Docker's exact text as the daemon returns it
/// (the CLI prefixes `Error response from daemon: `).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpamError {
    pub kind: ErrorKind,
    pub message: String,
}

impl IpamError {
    fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        IpamError { kind, message: message.into() }
    }
}

impl fmt::Display for IpamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for IpamError {}

fn invalid(msg: impl Into<String>) -> IpamError {
    IpamError::new(ErrorKind::InvalidParameter, msg)
}

// ---------------------------------------------------------------------------------------
// Address spaces and predefined pools
// ---------------------------------------------------------------------------------------

/// The two address spaces of the default driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AddressSpace {
    /// `LocalDefault`: bridge, macvlan, ipvlan, docker_gwbridge.
    Local,
    /// `GlobalDefault`: swarm-scope (overlay) networks.
    Global,
}

impl AddressSpace {
    /// Docker's name for the space.
    pub fn name(self) -> &'static str {
        match self {
            AddressSpace::Local => "LocalDefault",
            AddressSpace::Global => "GlobalDefault",
        }
    }
}

impl fmt::Display for AddressSpace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One predefined pool: `base` split into `/size` subnets (moby's `ipamutils.NetworkToSplit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PoolSpec {
    pub base: Ipv4Net,
    pub size: u8,
}

fn pfx(a: u8, b: u8, c: u8, d: u8, len: u8) -> Ipv4Net {
    Ipv4Net { addr: Ipv4Addr::new(a, b, c, d), len }
}

impl PoolSpec {
    /// Docker's local-scope defaults (`LN/ipamutils/utils.go`): 172.17/16, 172.18/16,
    /// 172.19/16, 172.20/14, 172.24/14, 172.28/14 split in /16s, 192.168/16 in /20s
    /// (31 subnets).
    pub fn local_defaults() -> Vec<PoolSpec> {
        vec![
            PoolSpec { base: pfx(172, 17, 0, 0, 16), size: 16 },
            PoolSpec { base: pfx(172, 18, 0, 0, 16), size: 16 },
            PoolSpec { base: pfx(172, 19, 0, 0, 16), size: 16 },
            PoolSpec { base: pfx(172, 20, 0, 0, 14), size: 16 },
            PoolSpec { base: pfx(172, 24, 0, 0, 14), size: 16 },
            PoolSpec { base: pfx(172, 28, 0, 0, 14), size: 16 },
            PoolSpec { base: pfx(192, 168, 0, 0, 16), size: 20 },
        ]
    }

    /// Docker's global-scope (swarm) default: 10.0.0.0/8 split into /24s.
    pub fn global_defaults() -> Vec<PoolSpec> {
        vec![PoolSpec { base: pfx(10, 0, 0, 0, 8), size: 24 }]
    }

    /// Go's `%v` of a `*NetworkToSplit`, used in Docker's error texts.
    fn go_repr(&self) -> String {
        format!("&{{{} {}}}", self.base, self.size)
    }

    /// Parses one `dockerd --default-address-pool base=172.80.0.0/16,size=24` value
    /// (`opts/address_pools.go` PoolsOpt.Set: keys are case-insensitive). A missing `size`
    /// gives size 0, which [`Ipam::new`] rejects as Docker does. Messages for a bad base or a
    /// size outside 0..=32 are this simulator's own (Docker fails later, elsewhere).
    pub fn parse_daemon_opt(value: &str) -> Result<PoolSpec, IpamError> {
        let mut base = None;
        let mut size = 0u8;
        for field in value.split(',') {
            let lower = field.to_ascii_lowercase();
            let Some((key, val)) = lower.split_once('=') else {
                return Err(invalid(format!("invalid field '{field}' must be a key=value pair")));
            };
            match key {
                "base" => {
                    base = Some(parse_cidr(val).map_err(|e| invalid(format!("invalid base prefix {val:?}: {e}")))?);
                }
                "size" => {
                    let n: i64 = val.parse().map_err(|_| {
                        invalid(format!(
                            "invalid size value: {value:?} (must be integer): strconv.Atoi: parsing {val:?}: invalid syntax"
                        ))
                    })?;
                    size = u8::try_from(n)
                        .ok()
                        .filter(|s| *s <= 32)
                        .ok_or_else(|| invalid(format!("invalid size value: {value:?} (must be between 0 and 32)")))?;
                }
                _ => return Err(invalid(format!("unexpected key '{key}' in '{field}'"))),
            }
        }
        let base = base.ok_or_else(|| invalid(format!("invalid base prefix \"\" in {value:?}")))?;
        Ok(PoolSpec { base, size })
    }

    /// The global pools of `docker swarm init --default-addr-pool <CIDR>…
    /// --default-addr-pool-mask-length <n>` (`daemon/cluster/listen_addr.go`
    /// validateDefaultAddrPool): mask 0 means 24, at most 29, not shorter than any pool prefix.
    /// An empty `pools` list gives an empty vector (= Docker's default 10.0.0.0/8 in /24s).
    pub fn swarm_default_addr_pools(pools: &[&str], mask_len: u32) -> Result<Vec<PoolSpec>, IpamError> {
        if pools.is_empty() {
            return Ok(Vec::new());
        }
        let size = if mask_len == 0 { 24 } else { mask_len };
        if size > 29 {
            return Err(invalid(format!("subnet size is out of range: {size}")));
        }
        let mut out = Vec::with_capacity(pools.len());
        for raw in pools {
            let p = raw.trim();
            let base =
                parse_cidr(p).map_err(|_| invalid(format!("invalid base pool {p}: invalid CIDR address: {p}")))?;
            if size < u32::from(base.len) {
                return Err(invalid(format!("invalid CIDR: {p:?}. Subnet size is too small for pool: {size}")));
            }
            out.push(PoolSpec { base: base.trunc(), size: size as u8 });
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------
// Public request/response types
// ---------------------------------------------------------------------------------------

/// One IPv4 IPAM config of a network (`--subnet`, `--ip-range`, `--gateway`,
/// `--aux-address name=ip`). All `None`/empty = "pick a subnet for me".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IpamConfig {
    pub subnet: Option<Ipv4Net>,
    pub ip_range: Option<Ipv4Net>,
    pub gateway: Option<Ipv4Addr>,
    pub aux: Vec<(String, Ipv4Addr)>,
}

impl IpamConfig {
    /// Config with only `--subnet`.
    pub fn with_subnet(subnet: Ipv4Net) -> Self {
        IpamConfig { subnet: Some(subnet), ..Default::default() }
    }
}

/// Identifies an allocated pool, like moby's `PoolID` (`AddressSpace/Subnet[/ChildSubnet]`).
/// One network's IPv4 allocation is identified by exactly one `PoolId`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PoolId {
    pub space: AddressSpace,
    /// The (masked) subnet.
    pub subnet: Ipv4Net,
    /// The (masked) `--ip-range`, if any.
    pub ip_range: Option<Ipv4Net>,
}

impl fmt::Display for PoolId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.space, self.subnet)?;
        if let Some(r) = self.ip_range {
            write!(f, "/{r}")?;
        }
        Ok(())
    }
}

/// What libnetwork keeps per network next to its `PoolId`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkIpam {
    /// The gateway address, `None` for gateway-less networks.
    pub gateway: Option<Ipv4Addr>,
    /// The `--aux-address` reservations, in request order.
    pub aux: Vec<(String, Ipv4Addr)>,
    /// `com.docker.network.ipam.serial=true` (set by the swarm manager).
    pub serial: bool,
}

/// `Status.IPAM.Subnets.<cidr>` of `docker network inspect` (v29).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SubnetStatus {
    /// Every allocated address of the subnet: network + broadcast + gateway + aux + endpoints.
    pub ips_in_use: u64,
    /// Addresses of the `--ip-range` (or the whole subnet) minus those allocated in it.
    pub dynamic_ips_available: u64,
}

// ---------------------------------------------------------------------------------------
// One address space (LN/ipams/defaultipam/address_space.go)
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct PoolData {
    addrs: AddrSet,
    children: BTreeSet<Ipv4Net>,
    auto_release: bool,
}

impl PoolData {
    /// `newPoolData`: reserve the network and broadcast addresses unless /31 or /32.
    fn new(pool: Ipv4Net) -> Self {
        let mut addrs = AddrSet::new(pool.size());
        if pool.bits() < 31 {
            addrs.add(0);
            addrs.add(pool.size() - 1);
        }
        PoolData { addrs, children: BTreeSet::new(), auto_release: false }
    }
}

#[derive(Clone, Debug)]
struct Space {
    kind: AddressSpace,
    /// Sorted, with prefixes overlapping an earlier one dropped.
    predefined: Vec<PoolSpec>,
    /// Allocated subnets, sorted.
    allocated: Vec<Ipv4Net>,
    subnets: BTreeMap<Ipv4Net, PoolData>,
    /// ≤ v26: dynamic subnets rotate through the predefined list ([`Ipam::set_round_robin`]).
    round_robin: bool,
    /// The rotation's start: index of the predefined subnet after the last one allocated
    /// (`v24.0.0:libnetwork/ipam/allocator.go` predefinedStartIndices).
    start: u64,
}

fn sub_str(sub: Option<Ipv4Net>) -> String {
    // Go prints a zero netip.Prefix as "invalid Prefix".
    sub.map_or_else(|| "invalid Prefix".to_string(), |s| s.to_string())
}

fn not_found_pool(nw: Ipv4Net, sub: Option<Ipv4Net>) -> IpamError {
    IpamError::new(ErrorKind::NotFound, format!("cannot find address pool for poolID:{nw}/{}", sub_str(sub)))
}

impl Space {
    fn new(kind: AddressSpace, mut predefined: Vec<PoolSpec>) -> Self {
        predefined.sort_by_key(|p| p.base);
        let mut kept: Vec<PoolSpec> = Vec::with_capacity(predefined.len());
        for p in predefined {
            if kept.last().is_some_and(|k| k.base.overlaps(&p.base)) {
                continue;
            }
            kept.push(p);
        }
        Space { kind, predefined: kept, allocated: Vec::new(), subnets: BTreeMap::new(), round_robin: false, start: 0 }
    }

    fn overlaps(&self, nw: &Ipv4Net) -> bool {
        self.allocated.iter().any(|a| a.overlaps(nw))
    }

    fn allocate_pool(&mut self, nw: Ipv4Net) {
        let i = self.allocated.binary_search(&nw).unwrap_or_else(|i| i);
        self.allocated.insert(i, nw);
        self.subnets.insert(nw, PoolData::new(nw));
    }

    /// `allocateSubnet` + `allocateSubnetL`.
    fn allocate_subnet(&mut self, nw: Ipv4Net, sub: Option<Ipv4Net>) -> Result<(), &'static str> {
        if let Some(pool) = self.subnets.get(&nw) {
            let child_exists = sub.is_some_and(|s| pool.children.contains(&s));
            if sub.is_none() || child_exists {
                return Err(ERR_POOL_OVERLAP);
            }
        }
        let Some(sub) = sub else {
            if self.overlaps(&nw) {
                return Err(ERR_POOL_OVERLAP);
            }
            self.allocate_pool(nw);
            return Ok(());
        };
        // Quirk (moby#46756): with an ip-range the parent is not overlap-checked.
        if !self.subnets.contains_key(&nw) {
            self.allocate_pool(nw);
            if let Some(p) = self.subnets.get_mut(&nw) {
                p.auto_release = true;
            }
        }
        if let Some(p) = self.subnets.get_mut(&nw) {
            p.children.insert(sub);
        }
        Ok(())
    }

    /// `allocatePredefinedPool`: the lowest predefined subnet overlapping neither an
    /// allocated pool nor a reserved prefix.
    fn allocate_predefined(&mut self, reserved: &[Ipv4Net]) -> Result<Ipv4Net, IpamError> {
        if self.round_robin {
            return self.allocate_round_robin(reserved);
        }
        let mut ranges: Vec<(u64, u64)> = self
            .allocated
            .iter()
            .chain(reserved.iter())
            .map(|p| (u64::from(p.first_u32()), u64::from(p.last_u32())))
            .collect();
        ranges.sort_unstable();
        let mut merged: BTreeMap<u64, u64> = BTreeMap::new();
        let mut cur: Option<(u64, u64)> = None;
        for (s, e) in ranges {
            cur = match cur {
                Some((cs, ce)) if s <= ce + 1 => Some((cs, ce.max(e))),
                Some((cs, ce)) => {
                    merged.insert(cs, ce);
                    Some((s, e))
                }
                None => Some((s, e)),
            };
        }
        if let Some((cs, ce)) = cur {
            merged.insert(cs, ce);
        }
        for pdf in &self.predefined {
            let size = pdf.size.min(32);
            if size < pdf.base.bits() {
                continue;
            }
            let step = 1u64 << (32 - u32::from(size));
            let last = u64::from(pdf.base.last_u32());
            let mut cs = u64::from(pdf.base.first_u32());
            while cs + step - 1 <= last {
                let ce = cs + step - 1;
                match merged.range(..=ce).next_back() {
                    Some((_, e)) if *e >= cs => cs = (e + 1).div_ceil(step) * step,
                    _ => {
                        let nw = Ipv4Net { addr: Ipv4Addr::from(cs as u32), len: size };
                        self.allocate_pool(nw);
                        return Ok(nw);
                    }
                }
            }
        }
        Err(invalid(ERR_NO_MORE_SUBNETS))
    }

    /// The predefined subnets one by one, in list order: (pool, subnet size, how many).
    fn predefined_subnets(&self) -> impl Iterator<Item = (Ipv4Net, u8, u64)> + '_ {
        self.predefined.iter().filter(|p| p.size <= 32 && p.size >= p.base.bits()).map(|p| {
            let n = 1u64 << (u32::from(p.size) - u32::from(p.base.bits()));
            (p.base, p.size, n)
        })
    }

    /// ≤ v26 (`v24.0.0:libnetwork/ipam/allocator.go` getPredefinedPool with the rotated list
    /// of getPredefineds): the first predefined subnet at or after the start index, wrapping,
    /// that overlaps no allocated pool; the start moves past it. Reserved prefixes are skipped
    /// the way `network.go` requestPoolHelper skips them: each is taken and given back, so it
    /// advances the start too.
    fn allocate_round_robin(&mut self, reserved: &[Ipv4Net]) -> Result<Ipv4Net, IpamError> {
        let total: u64 = self.predefined_subnets().map(|(_, _, n)| n).sum();
        let nth = |k: u64| {
            let mut k = k;
            for (base, size, n) in self.predefined_subnets() {
                if k < n {
                    let addr = base.first_u32() as u64 + (k << (32 - u32::from(size)));
                    return Some(Ipv4Net { addr: Ipv4Addr::from(addr as u32), len: size });
                }
                k -= n;
            }
            None
        };
        for i in 0..total {
            let k = (self.start + i) % total;
            let Some(nw) = nth(k) else { continue };
            if self.overlaps(&nw) || reserved.iter().any(|r| r.overlaps(&nw)) {
                continue;
            }
            self.start = (k + 1) % total;
            self.allocate_pool(nw);
            return Ok(nw);
        }
        Err(IpamError::new(ErrorKind::NotFound, ERR_NO_MORE_SUBNETS_V26))
    }

    fn deallocate(&mut self, nw: Ipv4Net) {
        if let Ok(i) = self.allocated.binary_search(&nw) {
            self.allocated.remove(i);
            self.subnets.remove(&nw);
        }
    }

    /// `releaseSubnet`.
    fn release_subnet(&mut self, nw: Ipv4Net, sub: Option<Ipv4Net>) -> Result<(), IpamError> {
        let p = self.subnets.get_mut(&nw).ok_or_else(|| invalid(ERR_BAD_POOL))?;
        match sub {
            Some(s) => {
                if !p.children.remove(&s) {
                    return Err(invalid(ERR_BAD_POOL));
                }
            }
            None => p.auto_release = true,
        }
        if p.children.is_empty() && p.auto_release {
            self.deallocate(nw);
        }
        Ok(())
    }

    /// `requestAddress` + `getAddress`.
    fn request_address(
        &mut self,
        nw: Ipv4Net,
        sub: Option<Ipv4Net>,
        pref: Option<Ipv4Addr>,
        serial: bool,
    ) -> Result<Ipv4Addr, IpamError> {
        let p = self.subnets.get_mut(&nw).ok_or_else(|| not_found_pool(nw, sub))?;
        if let Some(ip) = pref
            && !nw.contains(ip)
        {
            return Err(invalid(ERR_IP_OUT_OF_RANGE));
        }
        if let Some(s) = sub
            && !p.children.contains(&s)
        {
            return Err(not_found_pool(nw, sub));
        }
        if let Some(ip) = pref {
            let off = nw.offset_of(ip).unwrap_or(0);
            return if p.addrs.add(off) {
                Ok(ip)
            } else {
                Err(IpamError::new(ErrorKind::Forbidden, ERR_IP_ALREADY_ALLOCATED))
            };
        }
        let (start, end) = match sub {
            Some(r) if r != nw => {
                // addrset.AddAnyInRange
                if !nw.contains(r.addr) || r.bits() < nw.bits() {
                    return Err(IpamError::new(
                        ErrorKind::Internal,
                        format!("add-any, range '{r}' is not in subnet '{nw}'"),
                    ));
                }
                let start = u64::from(r.first_u32() - nw.first_u32());
                (start, start + r.size() - 1)
            }
            _ => (0, nw.size() - 1),
        };
        match p.addrs.add_any(start, end, serial) {
            Some(off) => Ok(nw.nth(off).unwrap_or(nw.addr)),
            None => Err(IpamError::new(ErrorKind::Unavailable, ERR_NO_AVAILABLE_IPS)),
        }
    }

    /// `releaseAddress`.
    fn release_address(&mut self, nw: Ipv4Net, sub: Option<Ipv4Net>, ip: Ipv4Addr) -> Result<(), IpamError> {
        let p = self.subnets.get_mut(&nw).ok_or_else(|| {
            IpamError::new(ErrorKind::NotFound, format!("cannot find address pool for {nw}/{}", sub_str(sub)))
        })?;
        if let Some(s) = sub
            && !p.children.contains(&s)
        {
            return Err(not_found_pool(nw, sub));
        }
        let Some(off) = nw.offset_of(ip) else {
            return Err(invalid(ERR_IP_OUT_OF_RANGE));
        };
        p.addrs.remove(off);
        Ok(())
    }

    /// `allocationStatus`.
    fn status(&self, nw: Ipv4Net, sub: Option<Ipv4Net>) -> Result<SubnetStatus, IpamError> {
        let p = self
            .subnets
            .get(&nw)
            .ok_or_else(|| IpamError::new(ErrorKind::NotFound, format!("cannot find address pool for {nw}")))?;
        let ipr = sub.unwrap_or(nw);
        let cap = ipr.size();
        let in_range = if !nw.overlaps(&ipr) {
            0
        } else if ipr.bits() <= nw.bits() {
            p.addrs.len()
        } else {
            let lo = u64::from(ipr.first_u32() - nw.first_u32());
            p.addrs.count_in(lo, lo + ipr.size() - 1)
        };
        Ok(SubnetStatus { ips_in_use: p.addrs.len(), dynamic_ips_available: cap.saturating_sub(in_range) })
    }
}

// ---------------------------------------------------------------------------------------
// The driver plus libnetwork's per-network bookkeeping
// ---------------------------------------------------------------------------------------

/// The `default` IPAM driver with both IPv4 address spaces, plus libnetwork's per-network
/// gateway/aux/serial bookkeeping.
#[derive(Clone, Debug)]
pub struct Ipam {
    local: Space,
    global: Space,
    networks: BTreeMap<PoolId, NetworkIpam>,
}

impl Default for Ipam {
    /// Docker's defaults for both spaces.
    fn default() -> Self {
        Ipam {
            local: Space::new(AddressSpace::Local, PoolSpec::local_defaults()),
            global: Space::new(AddressSpace::Global, PoolSpec::global_defaults()),
            networks: BTreeMap::new(),
        }
    }
}

fn check_pools(pools: &[PoolSpec], which: &str) -> Result<(), IpamError> {
    for (i, p) in pools.iter().enumerate() {
        let msg = if p.size == 0 || p.base.len > 32 {
            format!("network at index {i} ({}) is not in canonical form", p.go_repr())
        } else if p.base.len > p.size {
            format!(
                "network at index {i} ({}) has a smaller prefix (/{}) than the target size of that pool (/{})",
                p.go_repr(),
                p.base.len,
                p.size
            )
        } else if p.size > 32 {
            // Docker would accept this and fail later; the simulator refuses it up front.
            format!("network at index {i} ({}) has an invalid target size (/{})", p.go_repr(), p.size)
        } else {
            continue;
        };
        return Err(invalid(format!("could not construct {which} address space: {msg}")));
    }
    Ok(())
}

impl Ipam {
    /// Builds the driver from the local (`--default-address-pool`) and global (swarm
    /// `--default-addr-pool`) pool lists; an empty list means Docker's defaults. Fails like
    /// moby's `NewAllocator` (`could not construct local address space: network at index …`).
    pub fn new(local_pools: Vec<PoolSpec>, global_pools: Vec<PoolSpec>) -> Result<Self, IpamError> {
        let local_pools = if local_pools.is_empty() { PoolSpec::local_defaults() } else { local_pools };
        let global_pools = if global_pools.is_empty() { PoolSpec::global_defaults() } else { global_pools };
        check_pools(&local_pools, "local")?;
        check_pools(&global_pools, "global")?;
        let mask = |v: Vec<PoolSpec>| v.into_iter().map(|p| PoolSpec { base: p.base.trunc(), size: p.size }).collect();
        Ok(Ipam {
            local: Space::new(AddressSpace::Local, mask(local_pools)),
            global: Space::new(AddressSpace::Global, mask(global_pools)),
            networks: BTreeMap::new(),
        })
    }

    fn space(&self, s: AddressSpace) -> &Space {
        match s {
            AddressSpace::Local => &self.local,
            AddressSpace::Global => &self.global,
        }
    }

    fn space_mut(&mut self, s: AddressSpace) -> &mut Space {
        match s {
            AddressSpace::Local => &mut self.local,
            AddressSpace::Global => &mut self.global,
        }
    }

    /// ≤ v26's allocator (Docker 20.10): dynamic subnets rotate through the predefined pools
    /// from the last allocation instead of taking the lowest free one, in both spaces.
    /// Addresses inside a subnet are unaffected.
    pub fn set_round_robin(&mut self, on: bool) {
        self.local.round_robin = on;
        self.global.round_robin = on;
    }

    /// The predefined pools of a space, sorted and de-overlapped as the allocator uses them.
    pub fn predefined(&self, space: AddressSpace) -> &[PoolSpec] {
        &self.space(space).predefined
    }

    /// Subnets currently allocated in a space, sorted.
    pub fn allocated_subnets(&self, space: AddressSpace) -> &[Ipv4Net] {
        &self.space(space).allocated
    }

    /// Create-time validation of one network IPAM config (`api/types/network/ipam.go`
    /// ValidateIPAM, called from `daemon/network.go`). Errors read
    /// `invalid network config:\n<error>`, or with several errors
    /// `invalid network config:\n* <e1>\n* <e2>`.
    pub fn validate(cfg: &IpamConfig) -> Result<(), IpamError> {
        let subnet = cfg.subnet.map(|s| s.to_string()).unwrap_or_default();
        if cfg.subnet.is_none() && cfg.ip_range.is_none() && cfg.gateway.is_none() && cfg.aux.is_empty() {
            return Ok(());
        }
        let ip_range = cfg.ip_range.map(|s| s.to_string()).unwrap_or_default();
        let gateway = cfg.gateway.map(|s| s.to_string()).unwrap_or_default();
        let aux: Vec<(String, String)> = cfg.aux.iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
        join_validation(validate_entry(&subnet, &ip_range, &gateway, &aux))
    }

    /// The same validation on the raw strings of the API request (empty string = not
    /// given), including Docker's parse errors (`invalid subnet x: invalid CIDR block
    /// notation`, `invalid gateway x: invalid address`, …). On success returns the typed
    /// config. IPv6 input is reported as unparseable (IPv6 is out of scope).
    pub fn validate_strs(
        subnet: &str,
        ip_range: &str,
        gateway: &str,
        aux: &[(&str, &str)],
    ) -> Result<IpamConfig, IpamError> {
        if subnet.is_empty() && ip_range.is_empty() && gateway.is_empty() && aux.is_empty() {
            return Ok(IpamConfig::default());
        }
        let aux_owned: Vec<(String, String)> = aux.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        join_validation(validate_entry(subnet, ip_range, gateway, &aux_owned))?;
        // Everything parsed if validation passed.
        let opt_pfx = |s: &str| if s.is_empty() { None } else { parse_cidr(s).ok() };
        Ok(IpamConfig {
            subnet: opt_pfx(subnet),
            ip_range: opt_pfx(ip_range),
            gateway: if gateway.is_empty() { None } else { parse_ipv4(gateway) },
            aux: aux.iter().filter_map(|(k, v)| parse_ipv4(v).map(|ip| (k.to_string(), ip))).collect(),
        })
    }

    /// Allocates the IPv4 pool of one network, then its gateway and aux addresses
    /// (libnetwork `ipamAllocateVersion` + driver `RequestPool`).
    ///
    /// * `cfg.subnet == None`: dynamic — the lowest predefined subnet of `space` that
    ///   overlaps no allocated pool and none of `reserved` (host nameservers as /32 and host
    ///   on-link routes; ignored for [`AddressSpace::Global`]).
    /// * `cfg.subnet == Some`: explicit; overlap-checked against the pools of `space` only —
    ///   unless `cfg.ip_range` is given (moby#46756).
    /// * `serial`: `com.docker.network.ipam.serial=true` (swarm networks).
    /// * `skip_gateway`: no gateway is allocated unless `cfg.gateway` is given
    ///   (`gateway_mode_ipv4=isolated`, internal + inhibit_ipv4).
    pub fn request_pool(
        &mut self,
        space: AddressSpace,
        cfg: &IpamConfig,
        reserved: &[Ipv4Net],
        serial: bool,
        skip_gateway: bool,
    ) -> Result<PoolId, IpamError> {
        let sp = self.space_mut(space);
        let id = match cfg.subnet {
            None => {
                if let Some(r) = cfg.ip_range {
                    return Err(IpamError::new(
                        ErrorKind::Internal,
                        format!(
                            "failed to parse pool request for address space {:?} pool \"\" subpool {:?}: {ERR_INVALID_SUBPOOL}",
                            space.name(),
                            r.to_string()
                        ),
                    ));
                }
                let reserved: Vec<Ipv4Net> = match space {
                    AddressSpace::Local => reserved.iter().map(|p| p.trunc()).collect(),
                    AddressSpace::Global => Vec::new(),
                };
                let nw = sp.allocate_predefined(&reserved)?;
                PoolId { space, subnet: nw, ip_range: None }
            }
            Some(subnet) => {
                let nw = subnet.trunc();
                let mut sub = cfg.ip_range.map(|r| r.trunc());
                // Pre-v24 compatibility: a child bigger than its parent means the parent.
                if sub.is_some_and(|s| s.bits() < nw.bits()) {
                    sub = Some(nw);
                }
                sp.allocate_subnet(nw, sub)
                    .map_err(|m| IpamError::new(ErrorKind::Forbidden, format!("invalid pool request: {m}")))?;
                PoolId { space, subnet: nw, ip_range: sub }
            }
        };

        // Gateway.
        let mut gateway = None;
        if cfg.gateway.is_some() || !skip_gateway {
            match sp.request_address(id.subnet, id.ip_range, cfg.gateway, false) {
                Ok(gw) => gateway = Some(gw),
                Err(e) => {
                    let _ = sp.release_subnet(id.subnet, id.ip_range);
                    let pref = cfg.gateway.map(|g| g.to_string()).unwrap_or_default();
                    return Err(IpamError::new(
                        ErrorKind::Internal,
                        format!("failed to allocate gateway ({pref}): {}", e.message),
                    ));
                }
            }
        }

        // Auxiliary addresses: must be in the subnet; reserved.
        let mut aux = Vec::new();
        for (name, ip) in &cfg.aux {
            let err = if !id.subnet.contains(*ip) {
                Some(IpamError::new(
                    ErrorKind::Forbidden,
                    format!("auxiliary address: ({name}:{ip}) must belong to the master pool: {}", id.subnet),
                ))
            } else {
                match sp.request_address(id.subnet, id.ip_range, Some(*ip), false) {
                    Ok(_) => {
                        aux.push((name.clone(), *ip));
                        None
                    }
                    Err(e) if e.message == ERR_IP_OUT_OF_RANGE => None,
                    Err(e) => Some(IpamError::new(
                        ErrorKind::Internal,
                        format!("failed to allocate secondary ip address ({name}:{ip}): {}", e.message),
                    )),
                }
            };
            if let Some(e) = err {
                let _ = sp.release_subnet(id.subnet, id.ip_range);
                return Err(e);
            }
        }

        self.networks.insert(id, NetworkIpam { gateway, aux, serial });
        Ok(id)
    }

    /// The network's gateway, `None` for a gateway-less network or an unknown pool.
    pub fn gateway(&self, pool: PoolId) -> Option<Ipv4Addr> {
        self.networks.get(&pool).and_then(|n| n.gateway)
    }

    /// The network's `--aux-address` reservations, in request order.
    pub fn aux(&self, pool: PoolId) -> &[(String, Ipv4Addr)] {
        self.network(pool).map(|n| n.aux.as_slice()).unwrap_or_default()
    }

    /// The network's subnet.
    pub fn subnet(&self, pool: PoolId) -> Ipv4Net {
        pool.subnet
    }

    /// libnetwork's record for the network (gateway, aux addresses, serial flag).
    pub fn network(&self, pool: PoolId) -> Option<&NetworkIpam> {
        self.networks.get(&pool)
    }

    /// All networks' pools, in `PoolId` order.
    pub fn pools(&self) -> impl Iterator<Item = (&PoolId, &NetworkIpam)> {
        self.networks.iter()
    }

    /// Whether `ip` is currently allocated in the pool (false for unknown pools).
    pub fn is_allocated(&self, pool: PoolId, ip: Ipv4Addr) -> bool {
        let sp = self.space(pool.space);
        match (sp.subnets.get(&pool.subnet), pool.subnet.offset_of(ip)) {
            (Some(p), Some(off)) => p.addrs.contains(off),
            _ => false,
        }
    }

    /// An endpoint address: `preferred` (`--ip`, must lie in the subnet; may lie outside the
    /// `--ip-range`) or the next dynamic one (from the `--ip-range` if any; lowest free, or
    /// round-robin for serial networks).
    pub fn request_address(&mut self, pool: PoolId, preferred: Option<Ipv4Addr>) -> Result<Ipv4Addr, IpamError> {
        let serial =
            self.networks.get(&pool).map(|n| n.serial).ok_or_else(|| not_found_pool(pool.subnet, pool.ip_range))?;
        self.space_mut(pool.space).request_address(pool.subnet, pool.ip_range, preferred, serial)
    }

    /// Frees an endpoint address (freeing a free address is not an error).
    pub fn release_address(&mut self, pool: PoolId, ip: Ipv4Addr) -> Result<(), IpamError> {
        self.space_mut(pool.space).release_address(pool.subnet, pool.ip_range, ip)
    }

    /// Network deletion: frees the gateway and aux addresses, then the pool
    /// (libnetwork `ipamReleaseVersion`). The subnet is at once available again.
    pub fn release_pool(&mut self, pool: PoolId) -> Result<(), IpamError> {
        let sp = match pool.space {
            AddressSpace::Local => &mut self.local,
            AddressSpace::Global => &mut self.global,
        };
        if let Some(n) = self.networks.remove(&pool) {
            if let Some(gw) = n.gateway {
                let _ = sp.release_address(pool.subnet, pool.ip_range, gw);
            }
            for (_, ip) in &n.aux {
                let _ = sp.release_address(pool.subnet, pool.ip_range, *ip);
            }
        }
        sp.release_subnet(pool.subnet, pool.ip_range)
    }

    /// `Status.IPAM.Subnets.<cidr>` for the network's pool.
    pub fn status(&self, pool: PoolId) -> Result<SubnetStatus, IpamError> {
        let sp = self.space(pool.space);
        debug_assert_eq!(sp.kind, pool.space);
        sp.status(pool.subnet, pool.ip_range)
    }
}

// ---------------------------------------------------------------------------------------
// Create-time validation (api/types/network/ipam.go)
// ---------------------------------------------------------------------------------------

fn validate_address(addr: &str, subnet: &Ipv4Net) -> Option<String> {
    if addr.is_empty() {
        return None;
    }
    let Some(ip) = parse_ipv4(addr) else {
        return Some("invalid address".to_string());
    };
    (!subnet.contains(ip)).then(|| format!("parent subnet {subnet} doesn't contain this address"))
}

fn validate_entry(subnet_s: &str, ip_range: &str, gateway: &str, aux: &[(String, String)]) -> Vec<String> {
    let Ok(subnet) = parse_cidr(subnet_s) else {
        return vec![format!("invalid subnet {subnet_s}: invalid CIDR block notation")];
    };
    let mut errs = Vec::new();
    if !subnet.is_trunc() {
        errs.push(format!("invalid subnet {subnet}: it should be {}", subnet.trunc()));
    }
    if !ip_range.is_empty() {
        match parse_cidr(ip_range) {
            Err(_) => errs.push(format!("invalid ip-range {ip_range}: invalid CIDR block notation")),
            Ok(r) => {
                if r.len < subnet.len {
                    errs.push(format!(
                        "invalid ip-range {ip_range}: CIDR block is bigger than its parent subnet {subnet}"
                    ));
                }
                if !r.is_trunc() {
                    errs.push(format!("invalid ip-range {r}: it should be {}", r.trunc()));
                }
                if !subnet.overlaps(&r) {
                    errs.push(format!("invalid ip-range {ip_range}: parent subnet {subnet} doesn't contain ip-range"));
                }
            }
        }
    }
    if let Some(e) = validate_address(gateway, &subnet) {
        errs.push(format!("invalid gateway {gateway}: {e}"));
    }
    for (name, a) in aux {
        if let Some(e) = validate_address(a, &subnet) {
            errs.push(format!("invalid auxiliary address {name}: {e}"));
        }
    }
    errs
}

fn join_validation(errs: Vec<String>) -> Result<(), IpamError> {
    match errs.len() {
        0 => Ok(()),
        1 => Err(invalid(format!("invalid network config:\n{}", errs[0].trim()))),
        _ => {
            let body: Vec<String> = errs.iter().map(|e| e.replace('\n', "\n\t")).collect();
            Err(invalid(format!("invalid network config:\n* {}", body.join("\n* "))))
        }
    }
}
