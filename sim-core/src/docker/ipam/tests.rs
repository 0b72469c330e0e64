//! Tests against Docker's IPAM behaviour; each names its section of docs/docker-model.md in
//! *italics* (the moby sources are listed there and in `mod.rs`).

use super::*;

fn p(s: &str) -> Ipv4Net {
    prefix::parse_cidr(s).unwrap()
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn dynamic(ipam: &mut Ipam) -> PoolId {
    ipam.request_pool(AddressSpace::Local, &IpamConfig::default(), &[], false, false).unwrap()
}

fn swarm_net(ipam: &mut Ipam) -> PoolId {
    ipam.request_pool(AddressSpace::Global, &IpamConfig::default(), &[], true, false).unwrap()
}

fn explicit(ipam: &mut Ipam, subnet: &str, range: Option<&str>) -> Result<PoolId, IpamError> {
    let cfg = IpamConfig { subnet: Some(p(subnet)), ip_range: range.map(p), ..Default::default() };
    ipam.request_pool(AddressSpace::Local, &cfg, &[], false, false)
}

// *Default address pools*: 31 local subnets in order, 65,536 global /24s.
#[test]
fn default_pool_lists() {
    let ipam = Ipam::default();
    let local: Vec<Ipv4Net> =
        ipam.predefined(AddressSpace::Local).iter().flat_map(|s| s.base.subnets(s.size)).collect();
    assert_eq!(local.len(), 31);
    assert_eq!(local[0], p("172.17.0.0/16"));
    assert_eq!(local[14], p("172.31.0.0/16"));
    assert_eq!(local[15], p("192.168.0.0/20"));
    assert_eq!(local[30], p("192.168.240.0/20"));
    let g = &ipam.predefined(AddressSpace::Global)[0];
    assert_eq!(g.base.subnets(g.size).count(), 65_536);
}

// *Default address pools* "Typical results on a fresh host" + *Picking a subnet* exhaustion (v27+
// text).
#[test]
fn fresh_daemon_subnet_sequence_and_exhaustion() {
    let mut ipam = Ipam::default();
    let docker0 = dynamic(&mut ipam);
    assert_eq!(docker0.subnet, p("172.17.0.0/16"));
    assert_eq!(ipam.gateway(docker0), Some(ip("172.17.0.1")));
    let mut got = vec![];
    for _ in 0..30 {
        got.push(dynamic(&mut ipam).subnet.to_string());
    }
    assert_eq!(&got[..3], ["172.18.0.0/16", "172.19.0.0/16", "172.20.0.0/16"]);
    assert_eq!(got[13], "172.31.0.0/16");
    assert_eq!(got[14], "192.168.0.0/20");
    assert_eq!(got[15], "192.168.16.0/20");
    assert_eq!(got[29], "192.168.240.0/20");
    let err = ipam.request_pool(AddressSpace::Local, &IpamConfig::default(), &[], false, false).unwrap_err();
    assert_eq!(err.to_string(), "all predefined address pools have been fully subnetted");
    assert_eq!(err.kind, ErrorKind::InvalidParameter);
}

// *Picking a subnet* v27+: a deleted network's subnet is reused at once.
#[test]
fn freed_subnet_is_reused_immediately() {
    let mut ipam = Ipam::default();
    let _docker0 = dynamic(&mut ipam);
    let n18 = dynamic(&mut ipam);
    let _n19 = dynamic(&mut ipam);
    assert_eq!(n18.subnet, p("172.18.0.0/16"));
    ipam.release_pool(n18).unwrap();
    assert_eq!(ipam.allocated_subnets(AddressSpace::Local), [p("172.17.0.0/16"), p("172.19.0.0/16")]);
    let again = dynamic(&mut ipam);
    assert_eq!(again.subnet, p("172.18.0.0/16"));
    assert_eq!(ipam.gateway(again), Some(ip("172.18.0.1")));
    let n20 = dynamic(&mut ipam);
    assert_eq!(ipam.subnet(n20), p("172.20.0.0/16"));
}

// *Picking a subnet* reserved prefixes: on-link routes and nameservers (/32), local space only.
#[test]
fn reserved_prefixes_are_skipped() {
    let mut ipam = Ipam::default();
    let reserved = [p("172.18.5.0/24"), p("172.20.1.1/32"), p("10.0.0.0/8")];
    let docker0 = ipam.request_pool(AddressSpace::Local, &IpamConfig::default(), &reserved, false, false).unwrap();
    assert_eq!(docker0.subnet, p("172.17.0.0/16"));
    let first = ipam.request_pool(AddressSpace::Local, &IpamConfig::default(), &reserved, false, false).unwrap();
    assert_eq!(first.subnet, p("172.19.0.0/16"));
    let second = ipam.request_pool(AddressSpace::Local, &IpamConfig::default(), &reserved, false, false).unwrap();
    assert_eq!(second.subnet, p("172.21.0.0/16"));
    // Ignored for the global space.
    let ingress = ipam.request_pool(AddressSpace::Global, &IpamConfig::default(), &reserved, true, false).unwrap();
    assert_eq!(ingress.subnet, p("10.0.0.0/24"));
    // Unmasked reserved prefixes are masked; a reserved prefix covering everything exhausts.
    let mut ipam = Ipam::default();
    let err = ipam.request_pool(AddressSpace::Local, &IpamConfig::default(), &[p("128.1.2.3/1")], false, false);
    assert_eq!(err.unwrap_err().message, ERR_NO_MORE_SUBNETS);
}

// *Default address pools* swarm: ingress 10.0.0.0/24, first overlay 10.0.1.0/24; *Addresses inside
// a subnet* serial allocation.
#[test]
fn swarm_subnets_and_serial_addresses() {
    let mut ipam = Ipam::default();
    let ingress = swarm_net(&mut ipam);
    assert_eq!(ingress.subnet, p("10.0.0.0/24"));
    assert_eq!(ingress.to_string(), "GlobalDefault/10.0.0.0/24");
    let overlay = swarm_net(&mut ipam);
    assert_eq!(overlay.subnet, p("10.0.1.0/24"));
    assert_eq!(ipam.gateway(overlay), Some(ip("10.0.1.1")));
    let a = ipam.request_address(overlay, None).unwrap();
    let b = ipam.request_address(overlay, None).unwrap();
    assert_eq!((a, b), (ip("10.0.1.2"), ip("10.0.1.3")));
    ipam.release_address(overlay, a).unwrap();
    // Not reused at once: next after the last allocated.
    assert_eq!(ipam.request_address(overlay, None).unwrap(), ip("10.0.1.4"));
    // Local address space is independent: docker0 still gets 172.17/16.
    assert_eq!(dynamic(&mut ipam).subnet, p("172.17.0.0/16"));
}

// *Addresses inside a subnet* serial wraps at the end of the pool.
#[test]
fn serial_allocation_wraps() {
    let pools = PoolSpec::swarm_default_addr_pools(&["10.20.0.0/16"], 29).unwrap();
    let mut ipam = Ipam::new(vec![], pools).unwrap();
    let net = swarm_net(&mut ipam);
    assert_eq!(net.subnet, p("10.20.0.0/29"));
    let got: Vec<Ipv4Addr> = (0..5).map(|_| ipam.request_address(net, None).unwrap()).collect();
    assert_eq!(got, ["10.20.0.2", "10.20.0.3", "10.20.0.4", "10.20.0.5", "10.20.0.6"].map(ip));
    ipam.release_address(net, ip("10.20.0.3")).unwrap();
    ipam.release_address(net, ip("10.20.0.5")).unwrap();
    assert_eq!(ipam.request_address(net, None).unwrap(), ip("10.20.0.3"));
    assert_eq!(ipam.request_address(net, None).unwrap(), ip("10.20.0.5"));
    assert_eq!(ipam.request_address(net, None).unwrap_err().message, ERR_NO_AVAILABLE_IPS);
    // Round-robin in the middle: free .2 and .4 after last=.5 -> wraps to .2, then .4.
    ipam.release_address(net, ip("10.20.0.2")).unwrap();
    ipam.release_address(net, ip("10.20.0.4")).unwrap();
    assert_eq!(ipam.request_address(net, None).unwrap(), ip("10.20.0.2"));
    ipam.release_address(net, ip("10.20.0.3")).unwrap();
    // cursor is after .2: .3 is next, not .4.
    assert_eq!(ipam.request_address(net, None).unwrap(), ip("10.20.0.3"));
    assert_eq!(ipam.request_address(net, None).unwrap(), ip("10.20.0.4"));
}

// *Addresses inside a subnet* local networks: lowest free, released one reused at once.
#[test]
fn local_addresses_lowest_free() {
    let mut ipam = Ipam::default();
    let net = dynamic(&mut ipam);
    let a = ipam.request_address(net, None).unwrap();
    let b = ipam.request_address(net, None).unwrap();
    let c = ipam.request_address(net, None).unwrap();
    assert_eq!((a, b, c), (ip("172.17.0.2"), ip("172.17.0.3"), ip("172.17.0.4")));
    ipam.release_address(net, a).unwrap();
    assert_eq!(ipam.request_address(net, None).unwrap(), ip("172.17.0.2"));
    assert_eq!(ipam.request_address(net, None).unwrap(), ip("172.17.0.5"));
    // Releasing a free address is fine; outside the subnet is out of range.
    ipam.release_address(net, ip("172.17.9.9")).unwrap();
    assert_eq!(ipam.release_address(net, ip("10.0.0.1")).unwrap_err().message, ERR_IP_OUT_OF_RANGE);
}

// *Addresses inside a subnet* static --ip requests.
#[test]
fn static_address_requests() {
    let mut ipam = Ipam::default();
    let net = explicit(&mut ipam, "172.30.0.0/24", None).unwrap();
    assert_eq!(ipam.request_address(net, Some(ip("172.30.0.10"))).unwrap(), ip("172.30.0.10"));
    let e = ipam.request_address(net, Some(ip("172.30.0.10"))).unwrap_err();
    assert_eq!((e.message.as_str(), e.kind), ("Address already in use", ErrorKind::Forbidden));
    let e = ipam.request_address(net, Some(ip("172.30.0.1"))).unwrap_err();
    assert_eq!(e.message, "Address already in use"); // the gateway
    let e = ipam.request_address(net, Some(ip("172.30.0.255"))).unwrap_err();
    assert_eq!(e.message, "Address already in use"); // broadcast
    let e = ipam.request_address(net, Some(ip("172.31.0.10"))).unwrap_err();
    assert_eq!(e.message, "requested address is out of range");
    // Static requests do not disturb lowest-free order.
    assert_eq!(ipam.request_address(net, None).unwrap(), ip("172.30.0.2"));
}

// *Addresses inside a subnet* --ip-range: TestRequestReleaseAddressFromSubPool expects x.y.30.255
// allocatable.
#[test]
fn ip_range_sub_pool() {
    let mut ipam = Ipam::default();
    let net = explicit(&mut ipam, "172.28.0.0/16", Some("172.28.30.0/24")).unwrap();
    assert_eq!(net.to_string(), "LocalDefault/172.28.0.0/16/172.28.30.0/24");
    // Gateway comes from the range and is its first address.
    assert_eq!(ipam.gateway(net), Some(ip("172.28.30.0")));
    let st = ipam.status(net).unwrap();
    assert_eq!(st, SubnetStatus { ips_in_use: 3, dynamic_ips_available: 255 });
    let mut last = None;
    for i in 1..=255u32 {
        let a = ipam.request_address(net, None).unwrap();
        assert_eq!(a, Ipv4Addr::from(u32::from(ip("172.28.30.0")) + i));
        last = Some(a);
    }
    assert_eq!(last, Some(ip("172.28.30.255")));
    assert_eq!(ipam.request_address(net, None).unwrap_err().message, ERR_NO_AVAILABLE_IPS);
    // --ip outside the range but inside the subnet is accepted (parent-subnet check only).
    assert_eq!(ipam.request_address(net, Some(ip("172.28.1.5"))).unwrap(), ip("172.28.1.5"));
    assert_eq!(ipam.request_address(net, Some(ip("172.29.0.5"))).unwrap_err().message, ERR_IP_OUT_OF_RANGE);
    let st = ipam.status(net).unwrap();
    assert_eq!(st, SubnetStatus { ips_in_use: 2 + 256 + 1, dynamic_ips_available: 0 });
    // Release back into the range: lowest free of the range.
    ipam.release_address(net, ip("172.28.30.7")).unwrap();
    assert_eq!(ipam.request_address(net, None).unwrap(), ip("172.28.30.7"));
}

// *Addresses inside a subnet*: range at the very start / end of the subnet never yields the
// parent's network/broadcast.
#[test]
fn ip_range_at_subnet_edges() {
    let mut ipam = Ipam::default();
    let low = explicit(&mut ipam, "172.28.0.0/16", Some("172.28.0.0/24")).unwrap();
    assert_eq!(ipam.gateway(low), Some(ip("172.28.0.1")));
    let high = explicit(&mut ipam, "172.28.0.0/16", Some("172.28.255.0/24")).unwrap();
    assert_eq!(ipam.gateway(high), Some(ip("172.28.255.0")));
    let mut last = ip("0.0.0.0");
    while let Ok(a) = ipam.request_address(high, None) {
        last = a;
    }
    assert_eq!(last, ip("172.28.255.254"));
}

// *Picking a subnet* explicit subnet overlap text; *IPAM API and errors* wrapping "invalid pool
// request: ".
#[test]
fn explicit_subnet_overlap() {
    let mut ipam = Ipam::default();
    let docker0 = dynamic(&mut ipam);
    let e = explicit(&mut ipam, "172.17.0.0/16", None).unwrap_err();
    assert_eq!(e.to_string(), "invalid pool request: Pool overlaps with other one on this address space");
    assert_eq!(e.kind, ErrorKind::Forbidden);
    assert!(explicit(&mut ipam, "172.17.5.0/24", None).is_err());
    assert!(explicit(&mut ipam, "172.16.0.0/12", None).is_err());
    // Not checked against host routes: reserved prefixes only affect dynamic picks.
    let cfg = IpamConfig::with_subnet(p("172.18.0.0/16"));
    let n18 = ipam.request_pool(AddressSpace::Local, &cfg, &[p("172.18.5.0/24")], false, false).unwrap();
    // The same subnet in the other address space is fine.
    let g = ipam.request_pool(AddressSpace::Global, &IpamConfig::with_subnet(p("172.17.0.0/16")), &[], true, false);
    assert!(g.is_ok());
    // Dynamic allocation skips explicit subnets.
    assert_eq!(dynamic(&mut ipam).subnet, p("172.19.0.0/16"));
    // Host bits in an unvalidated request are masked (validation would have refused it).
    ipam.release_pool(n18).unwrap();
    let masked = explicit(&mut ipam, "172.18.1.1/16", None).unwrap();
    assert_eq!(masked.subnet, p("172.18.0.0/16"));
    ipam.release_pool(docker0).unwrap();
}

// *Picking a subnet* quirk (moby#46756): with --ip-range the parent is not overlap-checked.
#[test]
fn ip_range_quirk_skips_parent_overlap_check() {
    let mut ipam = Ipam::default();
    let _docker0 = dynamic(&mut ipam);
    assert!(explicit(&mut ipam, "172.16.0.0/12", None).is_err());
    let quirky = explicit(&mut ipam, "172.16.0.0/12", Some("172.16.5.0/24")).unwrap();
    assert_eq!(ipam.gateway(quirky), Some(ip("172.16.5.0")));
    // Now every 172.x predefined subnet overlaps an allocated pool.
    assert_eq!(dynamic(&mut ipam).subnet, p("192.168.0.0/20"));
    // Same subnet + another range shares the pool; same subnet + same range is refused.
    let other = explicit(&mut ipam, "172.16.0.0/12", Some("172.16.6.0/24")).unwrap();
    assert_eq!(ipam.gateway(other), Some(ip("172.16.6.0")));
    let e = explicit(&mut ipam, "172.16.0.0/12", Some("172.16.6.0/24")).unwrap_err();
    assert_eq!(e.message, "invalid pool request: Pool overlaps with other one on this address space");
    // Without a range on an existing pool: refused.
    assert!(explicit(&mut ipam, "172.16.0.0/12", None).is_err());
    // Shared address set: IPsInUse counts both networks' gateways.
    assert_eq!(ipam.status(other).unwrap().ips_in_use, 4);
    ipam.release_pool(quirky).unwrap();
    assert!(ipam.allocated_subnets(AddressSpace::Local).contains(&p("172.16.0.0/12")));
    ipam.release_pool(other).unwrap();
    assert!(!ipam.allocated_subnets(AddressSpace::Local).contains(&p("172.16.0.0/12")));
    assert_eq!(dynamic(&mut ipam).subnet, p("172.18.0.0/16"));
    // An ip-range without a subnet is a request error.
    let cfg = IpamConfig { ip_range: Some(p("172.18.5.0/24")), ..Default::default() };
    let e = ipam.request_pool(AddressSpace::Local, &cfg, &[], false, false).unwrap_err();
    assert_eq!(
        e.message,
        "failed to parse pool request for address space \"LocalDefault\" pool \"\" subpool \"172.18.5.0/24\": invalid address subpool"
    );
}

// *Addresses inside a subnet* create-time validation texts.
#[test]
fn validation_errors() {
    let cfg = |s: &str, r: Option<&str>, g: Option<&str>| IpamConfig {
        subnet: Some(p(s)),
        ip_range: r.map(p),
        gateway: g.map(ip),
        aux: vec![],
    };
    let e = Ipam::validate(&cfg("172.18.0.1/24", None, None)).unwrap_err();
    assert_eq!(e.to_string(), "invalid network config:\ninvalid subnet 172.18.0.1/24: it should be 172.18.0.0/24");
    assert_eq!(e.kind, ErrorKind::InvalidParameter);
    let e = Ipam::validate(&cfg("10.10.10.0/24", Some("10.0.0.0/8"), None)).unwrap_err();
    assert_eq!(
        e.message,
        "invalid network config:\ninvalid ip-range 10.0.0.0/8: CIDR block is bigger than its parent subnet 10.10.10.0/24"
    );
    let e = Ipam::validate(&cfg("10.0.0.0/8", Some("192.168.0.0/24"), None)).unwrap_err();
    assert_eq!(
        e.message,
        "invalid network config:\ninvalid ip-range 192.168.0.0/24: parent subnet 10.0.0.0/8 doesn't contain ip-range"
    );
    let e = Ipam::validate(&cfg("10.0.0.0/8", None, Some("192.168.0.1"))).unwrap_err();
    assert_eq!(
        e.message,
        "invalid network config:\ninvalid gateway 192.168.0.1: parent subnet 10.0.0.0/8 doesn't contain this address"
    );
    // The moby test case with four errors, joined with "* ".
    let e =
        Ipam::validate_strs("10.0.0.0/8", "192.168.0.1/24", "192.168.0.1", &[("DefaultGatewayIPv4", "192.168.0.1")])
            .unwrap_err();
    assert_eq!(
        e.message,
        "invalid network config:\n\
         * invalid ip-range 192.168.0.1/24: it should be 192.168.0.0/24\n\
         * invalid ip-range 192.168.0.1/24: parent subnet 10.0.0.0/8 doesn't contain ip-range\n\
         * invalid gateway 192.168.0.1: parent subnet 10.0.0.0/8 doesn't contain this address\n\
         * invalid auxiliary address DefaultGatewayIPv4: parent subnet 10.0.0.0/8 doesn't contain this address"
    );
    let e =
        Ipam::validate_strs("10.10.10.0/24", "foobar", "1001.10.5.3", &[("DefaultGatewayIPv4", "dummy")]).unwrap_err();
    assert_eq!(
        e.message,
        "invalid network config:\n\
         * invalid ip-range foobar: invalid CIDR block notation\n\
         * invalid gateway 1001.10.5.3: invalid address\n\
         * invalid auxiliary address DefaultGatewayIPv4: invalid address"
    );
    let e = Ipam::validate_strs("10.0.0.0/8", "10.10.10.0/16", "", &[]).unwrap_err();
    assert_eq!(e.message, "invalid network config:\ninvalid ip-range 10.10.10.0/16: it should be 10.10.0.0/16");
    let e = Ipam::validate_strs("bogus", "", "", &[]).unwrap_err();
    assert_eq!(e.message, "invalid network config:\ninvalid subnet bogus: invalid CIDR block notation");
    // Valid configs.
    let ok =
        Ipam::validate_strs("10.0.0.0/8", "10.10.0.0/16", "10.10.0.1", &[("DefaultGatewayIPv4", "10.10.0.1")]).unwrap();
    assert_eq!(ok.ip_range, Some(p("10.10.0.0/16")));
    assert!(Ipam::validate(&IpamConfig::default()).is_ok());
    assert!(Ipam::validate(&cfg("172.28.0.0/16", Some("172.28.30.0/24"), Some("172.28.0.1"))).is_ok());
    // Gateway without subnet: Docker parses the empty subnet.
    let e = Ipam::validate(&IpamConfig { gateway: Some(ip("1.2.3.4")), ..Default::default() }).unwrap_err();
    assert_eq!(e.message, "invalid network config:\ninvalid subnet : invalid CIDR block notation");
}

// *Addresses inside a subnet* --gateway, gateway-less networks, --aux-address; *Inspect output*
// IPsInUse.
#[test]
fn gateway_aux_and_ips_in_use() {
    let mut ipam = Ipam::default();
    let net = dynamic(&mut ipam);
    assert_eq!(ipam.status(net).unwrap(), SubnetStatus { ips_in_use: 3, dynamic_ips_available: 65_533 });

    let cfg = IpamConfig {
        subnet: Some(p("192.168.50.0/24")),
        gateway: Some(ip("192.168.50.254")),
        aux: vec![("router".into(), ip("192.168.50.2")), ("printer".into(), ip("192.168.50.3"))],
        ..Default::default()
    };
    let n = ipam.request_pool(AddressSpace::Local, &cfg, &[], false, false).unwrap();
    assert_eq!(ipam.gateway(n), Some(ip("192.168.50.254")));
    assert_eq!(ipam.request_address(n, None).unwrap(), ip("192.168.50.1"));
    assert_eq!(ipam.request_address(n, None).unwrap(), ip("192.168.50.4"));
    // network + broadcast + gateway + 2 aux + 2 endpoints
    assert_eq!(ipam.status(n).unwrap(), SubnetStatus { ips_in_use: 7, dynamic_ips_available: 249 });
    ipam.release_pool(n).unwrap();
    assert_eq!(ipam.status(n).unwrap_err().kind, ErrorKind::NotFound);

    // Gateway-less network (skip_gateway): only network + broadcast; first container is .1.
    let gl = ipam.request_pool(AddressSpace::Local, &IpamConfig::default(), &[], false, true).unwrap();
    assert_eq!(ipam.gateway(gl), None);
    assert_eq!(ipam.status(gl).unwrap().ips_in_use, 2);
    assert_eq!(ipam.request_address(gl, None).unwrap(), ip("172.18.0.1"));
    // ... but an explicit --gateway is still reserved.
    let cfg = IpamConfig { subnet: Some(p("10.9.0.0/24")), gateway: Some(ip("10.9.0.9")), ..Default::default() };
    let gw = ipam.request_pool(AddressSpace::Local, &cfg, &[], false, true).unwrap();
    assert_eq!(ipam.gateway(gw), Some(ip("10.9.0.9")));

    // Gateway equal to the network address: refused, and the pool is released.
    let cfg = IpamConfig { subnet: Some(p("10.8.0.0/24")), gateway: Some(ip("10.8.0.0")), ..Default::default() };
    let e = ipam.request_pool(AddressSpace::Local, &cfg, &[], false, false).unwrap_err();
    assert_eq!(e.message, "failed to allocate gateway (10.8.0.0): Address already in use");
    assert!(!ipam.allocated_subnets(AddressSpace::Local).contains(&p("10.8.0.0/24")));
    // Aux equal to the gateway / outside the subnet.
    let cfg =
        IpamConfig { subnet: Some(p("10.8.0.0/24")), aux: vec![("a".into(), ip("10.8.0.1"))], ..Default::default() };
    let e = ipam.request_pool(AddressSpace::Local, &cfg, &[], false, false).unwrap_err();
    assert_eq!(e.message, "failed to allocate secondary ip address (a:10.8.0.1): Address already in use");
    let cfg =
        IpamConfig { subnet: Some(p("10.8.0.0/24")), aux: vec![("a".into(), ip("10.9.9.9"))], ..Default::default() };
    let e = ipam.request_pool(AddressSpace::Local, &cfg, &[], false, false).unwrap_err();
    assert_eq!(e.message, "auxiliary address: (a:10.9.9.9) must belong to the master pool: 10.8.0.0/24");
    assert!(!ipam.allocated_subnets(AddressSpace::Local).contains(&p("10.8.0.0/24")));
    // Gateway outside an unvalidated subnet.
    let cfg = IpamConfig { subnet: Some(p("10.8.0.0/24")), gateway: Some(ip("10.7.0.1")), ..Default::default() };
    let e = ipam.request_pool(AddressSpace::Local, &cfg, &[], false, false).unwrap_err();
    assert_eq!(e.message, "failed to allocate gateway (10.7.0.1): requested address is out of range");
}

// *Addresses inside a subnet*: network/broadcast not reserved for /31 (RFC 3021) and /32.
#[test]
fn slash31_and_slash32() {
    let mut ipam = Ipam::default();
    let n31 = explicit(&mut ipam, "10.1.1.0/31", None).unwrap();
    assert_eq!(ipam.gateway(n31), Some(ip("10.1.1.0")));
    assert_eq!(ipam.request_address(n31, None).unwrap(), ip("10.1.1.1"));
    assert_eq!(ipam.request_address(n31, None).unwrap_err().message, ERR_NO_AVAILABLE_IPS);
    assert_eq!(ipam.status(n31).unwrap(), SubnetStatus { ips_in_use: 2, dynamic_ips_available: 0 });

    let n32 = explicit(&mut ipam, "10.1.2.3/32", None).unwrap();
    assert_eq!(ipam.gateway(n32), Some(ip("10.1.2.3")));
    assert_eq!(ipam.status(n32).unwrap(), SubnetStatus { ips_in_use: 1, dynamic_ips_available: 0 });
    assert_eq!(ipam.request_address(n32, None).unwrap_err().message, ERR_NO_AVAILABLE_IPS);

    // Gateway-less /32: the only address goes to the container.
    ipam.release_pool(n32).unwrap();
    let cfg = IpamConfig::with_subnet(p("10.1.2.3/32"));
    let n32 = ipam.request_pool(AddressSpace::Local, &cfg, &[], false, true).unwrap();
    assert_eq!(ipam.status(n32).unwrap(), SubnetStatus { ips_in_use: 0, dynamic_ips_available: 1 });
    assert_eq!(ipam.request_address(n32, None).unwrap(), ip("10.1.2.3"));
    // Serial /31 that empties resets the cursor.
    let cfg = IpamConfig::with_subnet(p("10.2.0.0/31"));
    let s = ipam.request_pool(AddressSpace::Global, &cfg, &[], true, true).unwrap();
    assert_eq!(ipam.request_address(s, None).unwrap(), ip("10.2.0.0"));
    ipam.release_address(s, ip("10.2.0.0")).unwrap();
    assert_eq!(ipam.request_address(s, None).unwrap(), ip("10.2.0.0"));
}

// Large explicit subnets are lazy: a /8 (and even /0) costs nothing up front.
#[test]
fn huge_subnets_are_lazy() {
    let mut ipam = Ipam::default();
    let n = explicit(&mut ipam, "10.0.0.0/8", None).unwrap();
    assert_eq!(ipam.status(n).unwrap(), SubnetStatus { ips_in_use: 3, dynamic_ips_available: 16_777_213 });
    for _ in 0..1000 {
        ipam.request_address(n, None).unwrap();
    }
    assert_eq!(ipam.request_address(n, None).unwrap(), ip("10.0.3.234"));
    assert_eq!(ipam.request_address(n, Some(ip("10.255.255.254"))).unwrap(), ip("10.255.255.254"));
    let all =
        ipam.request_pool(AddressSpace::Global, &IpamConfig::with_subnet(p("0.0.0.0/0")), &[], true, false).unwrap();
    assert_eq!(ipam.gateway(all), Some(ip("0.0.0.1")));
    assert_eq!(ipam.status(all).unwrap().dynamic_ips_available, (1u64 << 32) - 3);
    // The global space is now full: swarm dynamic allocation exhausts.
    let e = ipam.request_pool(AddressSpace::Global, &IpamConfig::default(), &[], true, false).unwrap_err();
    assert_eq!(e.message, ERR_NO_MORE_SUBNETS);
}

// *Default address pools* configurable pools and their validation errors.
#[test]
fn configurable_pools() {
    let spec = PoolSpec::parse_daemon_opt("base=172.80.0.0/16,size=24").unwrap();
    assert_eq!(spec, PoolSpec { base: p("172.80.0.0/16"), size: 24 });
    let mut ipam = Ipam::new(vec![spec], vec![]).unwrap();
    assert_eq!(dynamic(&mut ipam).subnet, p("172.80.0.0/24"));
    assert_eq!(dynamic(&mut ipam).subnet, p("172.80.1.0/24"));
    assert_eq!(swarm_net(&mut ipam).subnet, p("10.0.0.0/24"));

    assert_eq!(
        PoolSpec::parse_daemon_opt("base").unwrap_err().message,
        "invalid field 'base' must be a key=value pair"
    );
    assert_eq!(
        PoolSpec::parse_daemon_opt("base=10.0.0.0/8,foo=1").unwrap_err().message,
        "unexpected key 'foo' in 'foo=1'"
    );
    assert!(
        PoolSpec::parse_daemon_opt("base=10.0.0.0/8,size=x").unwrap_err().message.starts_with("invalid size value:")
    );

    let e = Ipam::new(vec![PoolSpec { base: p("10.0.0.0/16"), size: 8 }], vec![]).unwrap_err();
    assert_eq!(
        e.message,
        "could not construct local address space: network at index 0 (&{10.0.0.0/16 8}) has a smaller prefix (/16) than the target size of that pool (/8)"
    );
    let e = Ipam::new(vec![], vec![PoolSpec { base: p("10.0.0.0/8"), size: 0 }]).unwrap_err();
    assert_eq!(
        e.message,
        "could not construct global address space: network at index 0 (&{10.0.0.0/8 0}) is not in canonical form"
    );

    // Swarm: mask 0 means 24; > 29 and shorter than the pool are refused (*Default address pools*).
    let pools = PoolSpec::swarm_default_addr_pools(&["10.10.0.0/16", " 10.20.0.0/16 "], 0).unwrap();
    assert_eq!(pools[1], PoolSpec { base: p("10.20.0.0/16"), size: 24 });
    assert_eq!(
        PoolSpec::swarm_default_addr_pools(&["10.10.0.0/16"], 30).unwrap_err().message,
        "subnet size is out of range: 30"
    );
    assert_eq!(
        PoolSpec::swarm_default_addr_pools(&["10.10.0.0/16"], 8).unwrap_err().message,
        "invalid CIDR: \"10.10.0.0/16\". Subnet size is too small for pool: 8"
    );
    assert!(PoolSpec::swarm_default_addr_pools(&[], 99).unwrap().is_empty());
    let mut ipam = Ipam::new(vec![], pools).unwrap();
    assert_eq!(swarm_net(&mut ipam).subnet, p("10.10.0.0/24"));

    // Overlapping predefined pools: the longer one sorted after is dropped.
    let ipam = Ipam::new(
        vec![PoolSpec { base: p("10.0.0.0/8"), size: 16 }, PoolSpec { base: p("10.1.0.0/16"), size: 24 }],
        vec![],
    )
    .unwrap();
    assert_eq!(ipam.predefined(AddressSpace::Local), [PoolSpec { base: p("10.0.0.0/8"), size: 16 }]);
}

// Releasing unknown pools / addresses.
#[test]
fn release_errors() {
    let mut ipam = Ipam::default();
    let net = dynamic(&mut ipam);
    ipam.release_pool(net).unwrap();
    assert_eq!(ipam.release_pool(net).unwrap_err().message, ERR_BAD_POOL);
    assert_eq!(
        ipam.request_address(net, None).unwrap_err().message,
        "cannot find address pool for poolID:172.17.0.0/16/invalid Prefix"
    );
    assert_eq!(ipam.release_address(net, ip("172.17.0.2")).unwrap_err().kind, ErrorKind::NotFound);
    assert!(!ipam.is_allocated(net, ip("172.17.0.1")));
}

// Prefix helpers; garbage never panics.
#[test]
fn prefix_parsing_and_helpers() {
    let x = p("172.28.30.7/16");
    assert_eq!(x.to_string(), "172.28.30.7/16");
    assert_eq!(x.trunc().to_string(), "172.28.0.0/16");
    assert_eq!(x.network(), ip("172.28.0.0"));
    assert_eq!(x.broadcast(), ip("172.28.255.255"));
    assert_eq!(x.netmask(), ip("255.255.0.0"));
    assert!(!x.is_trunc());
    assert!(x.contains(ip("172.28.99.1")) && !x.contains(ip("172.29.0.0")));
    assert!(x.overlaps(&p("172.0.0.0/8")) && !x.overlaps(&p("172.29.0.0/16")));
    assert!(x.contains_prefix(&p("172.28.30.0/24")) && !x.contains_prefix(&p("172.0.0.0/8")));
    assert_eq!(p("0.0.0.0/0").size(), 1 << 32);
    assert_eq!(p("1.2.3.4/32").addrs().collect::<Vec<_>>(), [ip("1.2.3.4")]);
    assert_eq!(p("10.0.0.0/30").addrs().count(), 4);
    assert_eq!(p("255.255.255.254/31").addrs().last(), Some(ip("255.255.255.255")));
    assert_eq!(p("10.0.0.0/8").subnets(7).count(), 0);
    assert_eq!(p("10.0.0.0/8").subnets(33).count(), 0);
    assert_eq!(p("0.0.0.0/0").subnets(0).collect::<Vec<_>>(), [p("0.0.0.0/0")]);
    assert_eq!(p("10.0.0.0/30").nth(3), Some(ip("10.0.0.3")));
    assert_eq!(p("10.0.0.0/30").nth(4), None);
    let weird = Ipv4Net { addr: ip("1.2.3.4"), len: 200 };
    assert_eq!(weird.size(), 1);
    assert!(weird.contains(ip("1.2.3.4")));
    for g in [
        "",
        "/",
        "1.2.3.4",
        "1.2.3.4/",
        "1.2.3.4/33",
        "1.2.3.4/-1",
        "1.2.3.4/+8",
        "1.2.3.4/08",
        "1.2.3/8",
        "1.2.3.4.5/8",
        "01.2.3.4/8",
        "256.0.0.0/8",
        "1.2.3.4/8/8",
        "a.b.c.d/8",
        "::1/128",
        "1..3.4/8",
        "1.2.3.4/999999999999999999999",
        "１.2.3.4/8",
        " 1.2.3.4/8",
        "1.2.3.4 /8",
    ] {
        let e = prefix::parse_cidr(g).unwrap_err();
        assert_eq!(e.to_string(), format!("invalid CIDR address: {g}"));
    }
    assert_eq!(p("0.0.0.0/0"), "0.0.0.0/0".parse().unwrap());
    assert!(prefix::checked(ip("1.2.3.4"), 33).is_err());
    assert_eq!(parse_ipv4("1.2.3.04"), None);
}

// *Picking a subnet* (≤ v26) and Docker 20.10.24 as observed (`Era::V20_10`): round-robin from the
// last allocation, skipping allocated and reserved subnets, wrapping at the end of the list.
#[test]
fn round_robin_rotates_skips_reserved_and_wraps() {
    let mut ipam = Ipam::default();
    ipam.set_round_robin(true);
    let docker0 = dynamic(&mut ipam);
    assert_eq!(docker0.subnet, p("172.17.0.0/16"));
    let a = dynamic(&mut ipam);
    assert_eq!(a.subnet, p("172.18.0.0/16"));
    ipam.release_pool(a).unwrap();
    // The freed 172.18 is passed over; a reserved 172.19.5.0/24 takes 172.19 out too.
    let b =
        ipam.request_pool(AddressSpace::Local, &IpamConfig::default(), &[p("172.19.5.0/24")], false, false).unwrap();
    assert_eq!(b.subnet, p("172.20.0.0/16"));
    // Walk to the end of the 31 subnets; then the next wraps to the freed 172.18 and 172.19.
    let mut last = b;
    for _ in 0..27 {
        last = dynamic(&mut ipam);
    }
    assert_eq!(last.subnet, p("192.168.240.0/20"));
    assert_eq!(dynamic(&mut ipam).subnet, p("172.18.0.0/16"));
    assert_eq!(dynamic(&mut ipam).subnet, p("172.19.0.0/16"));
    let e = ipam.request_pool(AddressSpace::Local, &IpamConfig::default(), &[], false, false).unwrap_err();
    assert_eq!(e.message, ERR_NO_MORE_SUBNETS_V26);
    // Global (swarm) space rotates as well; addresses stay serial there.
    let s1 = swarm_net(&mut ipam);
    let s2 = swarm_net(&mut ipam);
    ipam.release_pool(s1).unwrap();
    assert_eq!(
        (s1.subnet, s2.subnet, swarm_net(&mut ipam).subnet),
        (p("10.0.0.0/24"), p("10.0.1.0/24"), p("10.0.2.0/24"))
    );
}
