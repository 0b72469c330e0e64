use super::*;
use crate::kernel::trace::Dir;
use crate::plan::{AddrPlan, NsPlan};
use crate::userland::apps::Traffic;
use crate::{Sim, SimTime, Until, World};

fn net(name: &str, device: &str, subnet: &str, gw: &str, mac: u8) -> BridgeNetwork {
    BridgeNetwork {
        name: name.into(),
        device: device.into(),
        subnet: subnet.parse().expect("subnet"),
        gateway: gw.parse().expect("gateway"),
        mac: Mac([0x02, 0x42, 0, 0, 0, mac]),
        internal: false,
        icc: true,
        masquerade: true,
        mtu: 1500,
    }
}

fn ep(sandbox: &str, network: usize, veth: &str, ip: &str, mac: u8, ports: Vec<PortBinding>) -> BridgeEndpoint {
    BridgeEndpoint {
        sandbox: sandbox.into(),
        network,
        ifname: "eth0".into(),
        host_veth: veth.into(),
        ip: ip.parse().expect("ip"),
        mac: Mac([0x02, 0x42, 0xac, 0, 0, mac]),
        gateway: true,
        ports,
        seq: mac as u64,
    }
}

fn host_plan() -> Plan {
    let mut p = Plan::default();
    p.namespaces.push(NsPlan { name: "host1".into(), lo_up: true, ip_forward: false, bridge_nf_call_iptables: true });
    p
}

fn tcp(host_port: u16, container_port: u16) -> PortBinding {
    PortBinding { proto: Proto::Tcp, host_port, container_port, host_ip: None }
}

/// Section `*table` … `COMMIT` of an iptables-save text, rule lines only.
fn rules_of(save: &str, table: &str) -> Vec<String> {
    let mut on = false;
    let mut out = Vec::new();
    for l in save.lines() {
        if l == format!("*{table}") {
            on = true;
        } else if l == "COMMIT" {
            on = false;
        } else if on && l.starts_with("-A ") {
            out.push(l.to_string());
        }
    }
    out
}

#[test]
fn iptables_match_dockers_v29_layout() {
    // docs/docker-model.md *iptables, v29*: `docker network create --subnet 192.0.2.0/24 bridge1`
    // (device bridge1) and `docker run --network bridge1 -p 8080:80 c1`, next to the default bridge.
    let nets = [
        net("bridge", "docker0", "172.17.0.0/16", "172.17.0.1", 1),
        net("bridge1", "bridge1", "192.0.2.0/24", "192.0.2.1", 2),
    ];
    let eps = [ep("c1", 1, "veth1a2b3c4", "192.0.2.2", 2, vec![tcp(8080, 80)])];
    let mut plan = host_plan();
    compile(&mut plan, "host1", &nets, &eps);
    let w = World::from_plan(&plan, 1).unwrap_or_else(|e| panic!("{e}"));
    let save = w.netns(w.ns_by_name("host1").expect("host1")).nf.save(false);
    let filter = rules_of(&save, "filter");
    // Every line the sheet lists for this setup, verbatim.
    for line in [
        "-A FORWARD -j DOCKER-USER",
        "-A FORWARD -j DOCKER-FORWARD",
        "-A DOCKER-FORWARD -j DOCKER-CT",
        "-A DOCKER-FORWARD -j DOCKER-INTERNAL",
        "-A DOCKER-FORWARD -j DOCKER-BRIDGE",
        "-A DOCKER-FORWARD -i docker0 -j ACCEPT",
        "-A DOCKER-FORWARD -i bridge1 -j ACCEPT",
        "-A DOCKER-CT -o bridge1 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        "-A DOCKER-BRIDGE -o bridge1 -j DOCKER",
        "-A DOCKER -d 192.0.2.2/32 ! -i bridge1 -o bridge1 -p tcp -m tcp --dport 80 -j ACCEPT",
        "-A DOCKER ! -i docker0 -o docker0 -j DROP",
        "-A DOCKER ! -i bridge1 -o bridge1 -j DROP",
    ] {
        assert!(filter.iter().any(|l| l == line), "missing `{line}` in\n{save}");
    }
    // Within the DOCKER chain: per-port ACCEPTs (inserted) above the per-network DROPs.
    let docker: Vec<_> = filter.iter().filter(|l| l.starts_with("-A DOCKER ")).collect();
    assert_eq!(docker.len(), 3);
    assert!(docker[0].contains("--dport 80 -j ACCEPT"), "{docker:?}");
    assert!(save.contains(":FORWARD DROP"), "{save}");
    // nat in the sheet's order: the newest network's MASQUERADE first.
    assert_eq!(
        rules_of(&save, "nat"),
        [
            "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
            "-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER",
            "-A POSTROUTING -s 192.0.2.0/24 ! -o bridge1 -j MASQUERADE",
            "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
            "-A DOCKER ! -i bridge1 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.0.2.2:80",
        ]
    );
    // raw (v28.2+): one per endpoint on a nat network.
    assert_eq!(rules_of(&save, "raw"), ["-A PREROUTING -d 192.0.2.2/32 ! -i bridge1 -j DROP"]);
}

#[test]
fn internal_network_has_isolation_rules_no_masquerade_and_no_default_route() {
    let mut n = net("secret", "br-0123456789ab", "172.18.0.0/16", "172.18.0.1", 3);
    n.internal = true;
    let mut plan = host_plan();
    compile(&mut plan, "host1", &[n], &[ep("db", 0, "veth7654321", "172.18.0.2", 3, vec![])]);
    let w = World::from_plan(&plan, 1).unwrap_or_else(|e| panic!("{e}"));
    let save = w.netns(w.ns_by_name("host1").expect("host1")).nf.save(false);
    let filter = rules_of(&save, "filter");
    assert!(filter.iter().any(|l| l == "-A DOCKER-INTERNAL ! -s 172.18.0.0/16 -o br-0123456789ab -j DROP"), "{save}");
    assert!(filter.iter().any(|l| l == "-A DOCKER-INTERNAL ! -d 172.18.0.0/16 -i br-0123456789ab -j DROP"), "{save}");
    assert!(!rules_of(&save, "nat").iter().any(|l| l.contains("MASQUERADE")), "{save}");
    assert!(rules_of(&save, "raw").is_empty(), "{save}");
    assert!(!plan.routes.iter().any(|r| r.ns == "db"), "no default route on an internal network");
}

/// A LAN client `lan` (192.168.0.20) wired to `host`'s eth0 (192.168.0.10).
pub(crate) fn add_lan_client(plan: &mut Plan, host: &str) {
    plan.namespaces.push(NsPlan { name: "lan".into(), lo_up: true, ip_forward: false, bridge_nf_call_iptables: true });
    plan.links.push(Link::Veth {
        name: "eth0".into(),
        ns: host.into(),
        peer: "eth0".into(),
        peer_ns: "lan".into(),
        mac: None,
        peer_mac: None,
        mtu: None,
        master: None,
        peer_master: None,
        delay: None,
        txqueuelen: None,
    });
    plan.addresses.push(AddrPlan { ns: host.into(), dev: "eth0".into(), addr: "192.168.0.10/24".parse().expect("a") });
    plan.addresses.push(AddrPlan { ns: "lan".into(), dev: "eth0".into(), addr: "192.168.0.20/24".parse().expect("a") });
}

#[test]
fn published_port_masquerade_and_isolation_work_end_to_end() {
    // host1 has eth0 192.168.0.10 towards a LAN client; web (docker0, -p 8080:80) and web2
    // share the default bridge; c1 sits on a user bridge.
    let nets = [
        net("bridge", "docker0", "172.17.0.0/16", "172.17.0.1", 1),
        net("bridge1", "br-5e1f0c2b9a01", "172.18.0.0/16", "172.18.0.1", 2),
    ];
    let eps = [
        ep("web", 0, "veth0000001", "172.17.0.2", 2, vec![tcp(8080, 80)]),
        ep("web2", 0, "veth0000002", "172.17.0.3", 3, vec![]),
        ep("c1", 1, "veth0000003", "172.18.0.2", 4, vec![]),
    ];
    let mut plan = host_plan();
    add_lan_client(&mut plan, "host1");
    compile(&mut plan, "host1", &nets, &eps);
    let mut w = World::from_plan(&plan, 3).unwrap_or_else(|e| panic!("{e}"));
    let at = SimTime::from_secs;
    for t in [
        Traffic::TcpListen {
            ns: "web".into(),
            port: 80,
            reply: Some("hello from web".into()),
            close_after_reply: true,
        },
        Traffic::TcpConnect {
            at: at(1),
            ns: "lan".into(),
            dst: "192.168.0.10".parse().expect("ip"),
            dport: 8080,
            send: "GET /".into(),
            close: true,
            ttl: None,
        },
        Traffic::Ping {
            at: at(3),
            ns: "web".into(),
            dst: "192.168.0.20".parse().expect("ip"),
            count: 1,
            interval: at(1),
            size: 56,
            pmtudisc: crate::kernel::sock::Pmtudisc::Want,
            wait: None,
            deadline: None,
            quiet: false,
            flavour: Default::default(),
            ttl: None,
            numeric: false,
            interface: None,
        },
        Traffic::Ping {
            at: at(5),
            ns: "web2".into(),
            dst: "172.17.0.2".parse().expect("ip"),
            count: 1,
            interval: at(1),
            size: 56,
            pmtudisc: crate::kernel::sock::Pmtudisc::Want,
            wait: None,
            deadline: None,
            quiet: false,
            flavour: Default::default(),
            ttl: None,
            numeric: false,
            interface: None,
        },
        Traffic::Ping {
            at: at(7),
            ns: "c1".into(),
            dst: "172.17.0.2".parse().expect("ip"),
            count: 1,
            interval: at(1),
            size: 56,
            pmtudisc: crate::kernel::sock::Pmtudisc::Want,
            wait: None,
            deadline: None,
            quiet: false,
            flavour: Default::default(),
            ttl: None,
            numeric: false,
            interface: None,
        },
    ] {
        w.add_traffic(&t).expect("traffic");
    }
    let mut s = Sim::new(w);
    s.run_until(Until::Idle);
    let a = s.app_output();
    let has = |ns: &str, needle: &str| a.iter().any(|(n, t)| n == ns && t.contains(needle));
    // DNAT keeps the client's real address (docs/docker-model.md *Who reaches whom*, "LAN host →
    // host-IP:8080").
    assert!(has("web", "received 5 bytes from 192.168.0.20:"), "{a:#?}");
    assert!(has("lan", "received 14 bytes from 192.168.0.10:8080: \"hello from web\""), "{a:#?}");
    // MASQUERADE on the way out: the LAN sees the host's address.
    assert!(has("web", "64 bytes from 192.168.0.20: icmp_seq=1 ttl=63"), "{a:#?}");
    let lan_saw_host = s.records().iter().any(|r| {
        r.dir == Dir::Rx
            && r.dev.is_some_and(|d| s.world.dev_path(d) == "lan/eth0")
            && r.frame.as_deref().is_some_and(|f| {
                crate::wire::pretty::summary(f).contains("IP 192.168.0.10 > 192.168.0.20: ICMP echo request")
            })
    });
    assert!(lan_saw_host, "the echo request must leave masqueraded");
    // Same bridge: switched, TTL unchanged.
    assert!(has("web2", "64 bytes from 172.17.0.2: icmp_seq=1 ttl=64"), "{a:#?}");
    // Another bridge: the raw PREROUTING rule drops direct access (docs/docker-model.md *Who
    // reaches whom*).
    assert!(has("c1", "1 packets transmitted, 0 received"), "{a:#?}");
    let dropped_by_raw = s
        .records()
        .iter()
        .any(|r| r.dir == Dir::Drop && r.why.iter().any(|w| w.show(&s.world).to_string().contains("raw/PREROUTING")));
    assert!(dropped_by_raw, "the drop must be the raw table's per-endpoint rule");
}
