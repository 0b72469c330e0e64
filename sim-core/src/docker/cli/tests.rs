use std::collections::BTreeMap;
use std::net::IpAddr;

use super::*;

fn ok(line: &str) -> DockerCommand {
    match parse(line) {
        Ok(c) => c,
        Err(e) => panic!("{line:?}: unexpected error {:?} at {:?}", e.message, &line[e.span.start..e.span.end()]),
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn cidr(s: &str) -> Cidr {
    let (a, l) = s.split_once('/').unwrap();
    Cidr { addr: ip(a), prefix_len: l.parse().unwrap() }
}

fn run_of(line: &str) -> Run {
    match ok(line) {
        DockerCommand::Run(r) => *r,
        other => panic!("{line:?}: not a run: {other:?}"),
    }
}

fn svc_of(line: &str) -> ServiceCreate {
    match ok(line) {
        DockerCommand::ServiceCreate(s) => *s,
        other => panic!("{line:?}: not a service create: {other:?}"),
    }
}

fn net_of(line: &str) -> NetworkCreate {
    match ok(line) {
        DockerCommand::NetworkCreate(n) => n,
        other => panic!("{line:?}: not a network create: {other:?}"),
    }
}

fn exec_of(line: &str) -> Exec {
    match ok(line) {
        DockerCommand::Exec(e) => e,
        other => panic!("{line:?}: not an exec: {other:?}"),
    }
}

fn user_net(name: &str) -> NetworkAttachment {
    NetworkAttachment::new(NetworkMode::UserDefined(name.into()))
}

fn env(k: &str, v: &str) -> EnvVar {
    EnvVar { key: k.into(), value: Some(v.into()) }
}

fn port(host: Option<(u16, u16)>, cont: (u16, u16), proto: Protocol) -> PortSpec {
    PortSpec {
        host_ip: None,
        host_ports: host.map(|(start, end)| PortRange { start, end }),
        container_ports: PortRange { start: cont.0, end: cont.1 },
        protocol: proto,
    }
}

fn sport(published: Option<u16>, target: u16) -> ServicePort {
    ServicePort { published, target, protocol: Protocol::Tcp, mode: PublishMode::Ingress }
}

// ---------------------------------------------------------------------------------------
// Full expected values

#[test]
fn tutorial_service_create() {
    let got = ok("docker service create --name webapp --replicas 1 --network mynet -p 8001:80 myimage");
    let want = DockerCommand::ServiceCreate(Box::new(ServiceCreate {
        name: Some("webapp".into()),
        mode: ServiceMode::Replicated { replicas: Some(1) },
        networks: vec![ServiceNetwork { name: "mynet".into(), aliases: vec![], driver_opts: BTreeMap::new() }],
        publish: vec![sport(Some(8001), 80)],
        env: vec![],
        endpoint_mode: EndpointMode::Vip,
        hostname: None,
        constraints: vec![],
        detach: false,
        quiet: false,
        labels: Default::default(),
        restart: Default::default(),
        update: Default::default(),
        other_flags: vec![],
        image: ImageRef { domain: "docker.io".into(), path: "library/myimage".into(), tag: None, digest: None },
        command: Argv::default(),
    }));
    assert_eq!(got, want);
}

#[test]
fn jobs_restart_flags_and_service_logs() {
    let DockerCommand::ServiceCreate(c) = ok(
        "docker service create --mode replicated-job --replicas 3 --max-concurrent 2 --restart-delay 1m30.5s --restart-condition none alpine ping -c 1 web",
    ) else {
        panic!("not a service create")
    };
    assert_eq!(c.mode, ServiceMode::ReplicatedJob { replicas: Some(3), max_concurrent: Some(2) });
    assert_eq!(c.restart.delay, Some(crate::engine::SimTime::from_millis(90_500)));
    assert_eq!(c.restart.condition.as_deref(), Some("none"));
    assert_eq!(c.command.words, ["ping", "-c", "1", "web"]);
    let got = ok("docker service logs -n 2 --no-task-ids --raw web");
    let want = DockerCommand::ServiceLogs(ServiceLogs {
        target: "web".into(),
        tail: Some(2),
        no_task_ids: true,
        no_trunc: false,
        raw: true,
    });
    assert_eq!(got, want);
}

#[test]
fn tutorial_run_mysql() {
    let got = ok("docker run -d --name mysql -e MYSQL_ROOT_PASSWORD=secret --network mynet mysql:8.0");
    let want = DockerCommand::Run(Box::new(Run {
        detach: true,
        interactive: false,
        tty: false,
        rm: false,
        name: Some("mysql".into()),
        networks: vec![user_net("mynet")],
        publish: vec![],
        publish_all: false,
        env: vec![env("MYSQL_ROOT_PASSWORD", "secret")],
        hostname: None,
        mac_address: None,
        dns: vec![],
        labels: Default::default(),
        other_flags: vec![],
        image: ImageRef {
            domain: "docker.io".into(),
            path: "library/mysql".into(),
            tag: Some("8.0".into()),
            digest: None,
        },
        command: Argv::default(),
    }));
    assert_eq!(got, want);
}

#[test]
fn macvlan_network_create() {
    let got =
        ok("docker network create -d macvlan --subnet 192.168.1.0/24 --gateway 192.168.1.1 -o parent=eth0.10 macnet");
    let want = DockerCommand::NetworkCreate(NetworkCreate {
        name: "macnet".into(),
        driver: NetworkDriver::Macvlan,
        ipam: vec![IpamPool {
            subnet: cidr("192.168.1.0/24"),
            ip_range: None,
            gateway: Some(ip("192.168.1.1")),
            aux_addresses: BTreeMap::new(),
        }],
        ipam_driver: "default".into(),
        internal: false,
        attachable: false,
        ingress: false,
        ipv4: true,
        ipv6: false,
        options: BTreeMap::from([("parent".to_string(), "eth0.10".to_string())]),
        labels: BTreeMap::new(),
        scope: None,
        other_flags: vec![],
    });
    assert_eq!(got, want);
}

#[test]
fn swarm_init_full() {
    let got = ok("docker swarm init --advertise-addr 192.168.0.10");
    let want = DockerCommand::SwarmInit(SwarmInit {
        advertise_addr: Some(NodeAddr { host: AddrHost::Ip(ip("192.168.0.10")), port: None }),
        listen_addr: NodeAddr { host: AddrHost::Ip(ip("0.0.0.0")), port: Some(2377) },
        data_path_addr: None,
        data_path_port: None,
        default_addr_pools: vec![],
        default_addr_pool_mask_length: 24,
        force_new_cluster: false,
        autolock: false,
        availability: NodeAvailability::Active,
        other_flags: vec![],
    });
    assert_eq!(got, want);
}

// ---------------------------------------------------------------------------------------
// Table: command line → check

#[test]
fn swarm_commands() {
    let DockerCommand::SwarmInit(i) = ok("docker swarm init --advertise-addr eth1:2400 --listen-addr 10.0.0.1 \
         --data-path-addr 10.0.0.1 --data-path-port 7789 --default-addr-pool 10.10.0.5/16 \
         --default-addr-pool=10.20.0.0/16,10.30.0.0/16 --default-addr-pool-mask-length 26 --autolock \
         --task-history-limit 3")
    else {
        panic!()
    };
    assert_eq!(i.advertise_addr, Some(NodeAddr { host: AddrHost::Interface("eth1".into()), port: Some(2400) }));
    assert_eq!(i.listen_addr, NodeAddr { host: AddrHost::Ip(ip("10.0.0.1")), port: Some(2377) });
    assert_eq!(i.data_path_addr, Some(AddrHost::Ip(ip("10.0.0.1"))));
    assert_eq!(i.data_path_port, Some(7789));
    assert_eq!(i.default_addr_pools, vec![cidr("10.10.0.0/16"), cidr("10.20.0.0/16"), cidr("10.30.0.0/16")]);
    assert_eq!(i.default_addr_pool_mask_length, 26);
    assert!(i.autolock);
    assert_eq!(i.other_flags, vec![OtherFlag { name: "task-history-limit".into(), value: "3".into() }]);

    let DockerCommand::SwarmInit(i) = ok("docker swarm init --listen-addr :2400 --availability DRAIN") else {
        panic!()
    };
    assert_eq!(i.listen_addr, NodeAddr { host: AddrHost::Ip(ip("0.0.0.0")), port: Some(2400) });
    assert_eq!(i.availability, NodeAvailability::Drain);

    let token = "SWMTKN-1-49nj1cmql0jkz5s954yi3oex3nedyz0fb0xx14ie39trti4wxv-8vxv8rssmk743ojnwacrr2e7c";
    let DockerCommand::SwarmJoin(j) = ok(&format!("docker swarm join --token {token} 192.168.99.100:2377")) else {
        panic!()
    };
    assert_eq!(j.token.as_deref(), Some(token));
    assert_eq!(j.remote, NodeAddr { host: AddrHost::Ip(ip("192.168.99.100")), port: Some(2377) });
    let DockerCommand::SwarmJoin(j) = ok("docker swarm join 192.168.99.100 --token=T --advertise-addr 10.0.0.2") else {
        panic!()
    };
    assert_eq!(j.remote.port, Some(2377));
    assert_eq!(j.token.as_deref(), Some("T"));
    assert_eq!(j.advertise_addr, Some(NodeAddr { host: AddrHost::Ip(ip("10.0.0.2")), port: None }));

    assert_eq!(
        ok("docker swarm join-token -q manager"),
        DockerCommand::SwarmJoinToken(SwarmJoinToken { role: NodeRole::Manager, rotate: false, quiet: true })
    );
    assert_eq!(
        ok("docker swarm join-token --rotate worker"),
        DockerCommand::SwarmJoinToken(SwarmJoinToken { role: NodeRole::Worker, rotate: true, quiet: false })
    );
    assert_eq!(ok("docker swarm leave --force"), DockerCommand::SwarmLeave(SwarmLeave { force: true }));
    assert_eq!(ok("docker swarm leave -f=false"), DockerCommand::SwarmLeave(SwarmLeave { force: false }));
    assert_eq!(ok("docker swarm leave"), DockerCommand::SwarmLeave(SwarmLeave { force: false }));
}

#[test]
fn network_create_variants() {
    let n = net_of("docker network create -d overlay --attachable mynet");
    assert_eq!((n.driver, n.attachable, n.name.as_str()), (NetworkDriver::Overlay, true, "mynet"));
    assert!(n.ipam.is_empty());

    let n = net_of("docker network create mynet");
    assert_eq!(n.driver, NetworkDriver::Bridge);

    // From the docker network create reference.
    let n = net_of(
        "docker network create --driver=bridge --subnet=172.28.0.0/16 --ip-range=172.28.5.0/24 \
         --gateway=172.28.5.254 br0",
    );
    assert_eq!(
        n.ipam,
        vec![IpamPool {
            subnet: cidr("172.28.0.0/16"),
            ip_range: Some(cidr("172.28.5.0/24")),
            gateway: Some(ip("172.28.5.254")),
            aux_addresses: BTreeMap::new(),
        }]
    );

    let n = net_of(
        "docker network create -d overlay --subnet=192.168.10.0/25 --subnet=192.168.20.0/25 \
         --gateway=192.168.10.100 --gateway=192.168.20.100 --aux-address=\"my-router=192.168.10.5\" \
         --aux-address=\"my-switch=192.168.10.6\" --aux-address=\"my-printer=192.168.20.5\" \
         --aux-address=\"my-nas=192.168.20.6\" my-multihost-network",
    );
    assert_eq!(n.ipam.len(), 2);
    assert_eq!(n.ipam[0].gateway, Some(ip("192.168.10.100")));
    assert_eq!(n.ipam[1].gateway, Some(ip("192.168.20.100")));
    assert_eq!(n.ipam[0].aux_addresses.keys().collect::<Vec<_>>(), ["my-router", "my-switch"]);
    assert_eq!(n.ipam[1].aux_addresses["my-nas"], ip("192.168.20.6"));

    let n = net_of(
        "docker network create --internal --ipv6 --subnet 2001:db8::/64 --label env=prod -o com.docker.network.bridge.name=br1 isolated",
    );
    assert!(n.internal && n.ipv6);
    assert_eq!(n.ipam[0].subnet, cidr("2001:db8::/64"));
    assert_eq!(n.labels["env"], "prod");
    assert_eq!(n.options["com.docker.network.bridge.name"], "br1");

    let n = net_of(
        "docker network create -d ipvlan --subnet=192.168.210.0/24 --subnet=192.168.212.0/24 --gateway=192.168.210.254,192.168.212.254 -o ipvlan_mode=l2 -o parent=eth0 ipvlan210",
    );
    assert_eq!(n.driver, NetworkDriver::Ipvlan);
    assert_eq!(n.ipam[1].gateway, Some(ip("192.168.212.254")));
    assert_eq!(n.options["ipvlan_mode"], "l2");

    let n = net_of("docker network create --ingress --driver overlay --scope swarm my-ingress-network");
    assert!(n.ingress);
    assert_eq!(n.scope.as_deref(), Some("swarm"));

    // Flags after the positional are fine (interspersed).
    let n = net_of("docker network create mynet -d overlay");
    assert_eq!(n.driver, NetworkDriver::Overlay);
    // "--" ends flags.
    let n = net_of("docker network create -- -weird");
    assert_eq!(n.name, "-weird");
}

#[test]
fn network_other_commands() {
    assert_eq!(
        ok("docker network rm net1 net2"),
        DockerCommand::NetworkRm(NetworkRm { networks: vec!["net1".into(), "net2".into()], force: false })
    );
    assert_eq!(
        ok("docker network remove -f net1"),
        DockerCommand::NetworkRm(NetworkRm { networks: vec!["net1".into()], force: true })
    );
    assert_eq!(ok("docker network ls"), DockerCommand::NetworkLs(NetworkLs::default()));
    let DockerCommand::NetworkLs(l) = ok("docker network ls -q --filter driver=bridge --no-trunc") else { panic!() };
    assert!(l.quiet && l.no_trunc);
    assert_eq!(l.filters, vec!["driver=bridge".to_string()]);
    let DockerCommand::NetworkInspect(i) = ok("docker network inspect -f '{{json .IPAM}}' mynet bridge") else {
        panic!()
    };
    assert_eq!(i.networks, vec!["mynet".to_string(), "bridge".to_string()]);
    assert_eq!(i.format.as_deref(), Some("{{json .IPAM}}"));

    assert_eq!(
        ok("docker network connect --ip 10.10.36.122 --alias db --alias mysql,sql multi-host-network container2"),
        DockerCommand::NetworkConnect(NetworkConnect {
            network: "multi-host-network".into(),
            container: "container2".into(),
            ipv4_address: Some(ip("10.10.36.122")),
            ipv6_address: None,
            aliases: vec!["db".into(), "mysql".into(), "sql".into()],
            links: vec![],
            driver_opts: vec![],
        })
    );
    assert_eq!(
        ok("docker network disconnect -f mynet web"),
        DockerCommand::NetworkDisconnect(NetworkDisconnect {
            network: "mynet".into(),
            container: "web".into(),
            force: true
        })
    );
}

#[test]
fn run_variants() {
    let r = run_of("docker run -d --name web --network mynet -p 8001:80 webapp");
    assert!(r.detach);
    assert_eq!(r.name.as_deref(), Some("web"));
    assert_eq!(r.networks, vec![user_net("mynet")]);
    assert_eq!(r.publish, vec![port(Some((8001, 8001)), (80, 80), Protocol::Tcp)]);
    assert_eq!(r.image.familiar_name(), "webapp");

    // Default network; combined shorthands; container command.
    let r = run_of("docker run -it --rm alpine sh -c 'echo hi'");
    assert!(r.interactive && r.tty && r.rm && !r.detach);
    assert_eq!(r.networks, vec![NetworkAttachment::new(NetworkMode::Default)]);
    assert_eq!(r.command, Argv::from_words(["sh", "-c", "echo hi"]));

    let r = run_of("docker run -dit busybox");
    assert!(r.detach && r.interactive && r.tty);

    // Everything after IMAGE belongs to the container.
    let r = run_of("docker run --rm busybox ping -c 3 --name x 10.0.0.2");
    assert_eq!(r.name, None);
    assert_eq!(r.command, Argv::from_words(["ping", "-c", "3", "--name", "x", "10.0.0.2"]));

    // Ports, like nat.ParsePortSpecs.
    let r = run_of(
        "docker run -p 80 -p 127.0.0.1:8080:80/udp -p 8000-8010:80-90 -p 127.0.0.1::53/UDP -p 9000-9005:22 \
         -p published=8443,target=443 -P nginx:1.25-alpine",
    );
    assert_eq!(r.publish[0], port(None, (80, 80), Protocol::Tcp));
    assert_eq!(
        r.publish[1],
        PortSpec {
            host_ip: Some(ip("127.0.0.1")),
            host_ports: Some(PortRange::single(8080)),
            container_ports: PortRange::single(80),
            protocol: Protocol::Udp,
        }
    );
    assert_eq!(r.publish[2], port(Some((8000, 8010)), (80, 90), Protocol::Tcp));
    assert_eq!(r.publish[2].mappings().len(), 11);
    assert_eq!(r.publish[2].mappings()[10].host_port, Some(PortRange::single(8010)));
    assert_eq!(r.publish[3].host_ports, None);
    assert_eq!(r.publish[3].protocol, Protocol::Udp);
    assert_eq!(r.publish[4].mappings()[0].host_port, Some(PortRange { start: 9000, end: 9005 }));
    assert_eq!(r.publish[5], port(Some((8443, 8443)), (443, 443), Protocol::Tcp));
    assert!(r.publish_all);
    assert_eq!(r.image.tag.as_deref(), Some("1.25-alpine"));

    // Network modes and per-container options.
    let r = run_of(
        "docker run --net=host --hostname h1 --mac-address 02:42:ac:11:00:02 --dns 8.8.8.8 --dns=1.1.1.1 \
         -e A=1 -e B --env C= nginx",
    );
    assert_eq!(r.networks, vec![NetworkAttachment::new(NetworkMode::Host)]);
    assert_eq!(r.hostname.as_deref(), Some("h1"));
    assert_eq!(r.mac_address, Some(MacAddr([2, 0x42, 0xac, 0x11, 0, 2])));
    assert_eq!(r.dns, vec![ip("8.8.8.8"), ip("1.1.1.1")]);
    assert_eq!(r.env, vec![env("A", "1"), EnvVar { key: "B".into(), value: None }, env("C", "")]);

    let r = run_of("docker run --network container:web busybox");
    assert_eq!(r.networks[0].mode, NetworkMode::Container("web".into()));

    let r = run_of("docker run --network none busybox");
    assert_eq!(r.networks[0].mode, NetworkMode::None);
    let r = run_of("docker run --network bridge busybox");
    assert_eq!(r.networks[0].mode, NetworkMode::Bridge);

    // --ip / --network-alias go to the first network.
    let r = run_of("docker run --network mynet --network other --ip 172.20.0.5 --network-alias db -d mysql:8");
    let mut first = user_net("mynet");
    first.ipv4_address = Some(ip("172.20.0.5"));
    first.aliases = vec!["db".into()];
    assert_eq!(r.networks, vec![first, user_net("other")]);

    // Long --network syntax.
    let r = run_of("docker run --network name=mynet,alias=web1,alias=web2,ip=10.1.0.9 nginx");
    let mut want = user_net("mynet");
    want.aliases = vec!["web1".into(), "web2".into()];
    want.ipv4_address = Some(ip("10.1.0.9"));
    assert_eq!(r.networks, vec![want]);

    // Unmodelled flags are kept.
    let r = run_of("docker run -v /data:/data --restart=always -w /app --privileged nginx");
    assert_eq!(
        r.other_flags.iter().map(|f| (f.name.as_str(), f.value.as_str())).collect::<Vec<_>>(),
        [("volume", "/data:/data"), ("restart", "always"), ("workdir", "/app"), ("privileged", "true")]
    );

    // Short value flags: attached, '=' and separate forms.
    let r = run_of("docker run -p8080:80 -p=9090:90 -eX=1 -dp 7070:70 nginx");
    assert_eq!(r.publish.iter().map(|p| p.host_ports.unwrap().start).collect::<Vec<_>>(), [8080, 9090, 7070]);
    assert_eq!(r.env, vec![env("X", "1")]);
    assert!(r.detach);

    // Image references.
    assert_eq!(run_of("docker run localhost:5000/team/app:v1.2 x").image.domain, "localhost:5000");
    assert_eq!(run_of("docker run user/app").image.path, "user/app");
    assert_eq!(run_of("docker run docker.io/library/redis").image.familiar_name(), "redis");
    let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    assert_eq!(run_of(&format!("docker run alpine@{d}")).image.digest.as_deref(), Some(d));

    // docker container run alias.
    assert_eq!(run_of("docker container run --name web nginx").name.as_deref(), Some("web"));
}

#[test]
fn other_container_commands() {
    assert_eq!(
        ok("docker rm -f web db"),
        DockerCommand::Rm(Rm { containers: vec!["web".into(), "db".into()], force: true, volumes: false })
    );
    assert_eq!(
        ok("docker stop -t 5 web"),
        DockerCommand::Stop(Stop { containers: vec!["web".into()], timeout: Some(5), signal: None })
    );
    assert_eq!(
        ok("docker start web db"),
        DockerCommand::Start(Start { containers: vec!["web".into(), "db".into()], attach: false, interactive: false })
    );
    let DockerCommand::Ps(p) = ok("docker ps -a --format '{{.Names}}'") else { panic!() };
    assert!(p.all);
    assert_eq!(p.last, -1);
    assert_eq!(p.format.as_deref(), Some("{{.Names}}"));
    assert!(matches!(ok("docker container ls -q"), DockerCommand::Ps(Ps { quiet: true, .. })));
    assert_eq!(
        ok("docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' web"),
        DockerCommand::Inspect(Inspect {
            names: vec!["web".into()],
            format: Some("{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}".into()),
            size: false,
            kind: None,
        })
    );

    let e = exec_of("docker exec -it web sh");
    assert!(e.interactive && e.tty);
    assert_eq!(e.container, "web");
    assert_eq!(e.command, Argv::from_words(["sh"]));
    // Flags after CONTAINER belong to the command.
    let e = exec_of("docker exec web -it sh");
    assert!(!e.interactive);
    assert_eq!(e.command, Argv::from_words(["-it", "sh"]));
    let e = exec_of("docker exec -e A=b -u root -w /tmp web mysql -uroot -psecret -e 'SELECT 1'");
    assert_eq!(e.env, vec![env("A", "b")]);
    assert_eq!(e.user.as_deref(), Some("root"));
    assert_eq!(e.command.words, ["mysql", "-uroot", "-psecret", "-e", "SELECT 1"]);
    // Spans of the command words point into the line.
    let line = "docker exec web ping db";
    let e = exec_of(line);
    assert_eq!(&line[e.command.span(1).start..e.command.span(1).end()], "db");
}

#[test]
fn service_and_node_commands() {
    let s = svc_of("docker service create --name mysql --replicas 1 --network mynet mysql:8");
    assert_eq!(s.mode, ServiceMode::Replicated { replicas: Some(1) });
    assert_eq!(s.image.tag.as_deref(), Some("8"));

    let s = svc_of(
        "docker service create --mode global --name agent -e A=1 --endpoint-mode dnsrr --network net1 --network net2 agent:1",
    );
    assert_eq!(s.mode, ServiceMode::Global);
    assert_eq!(s.mode.replicas(), None);
    assert_eq!(s.endpoint_mode, EndpointMode::Dnsrr);
    assert_eq!(s.networks.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(), ["net1", "net2"]);

    let s = svc_of(
        "docker service create --name web -p published=8080,target=80 -p mode=host,published=8081,target=81,protocol=udp \
         --publish 9000-9001:90-91 -p 53 nginx",
    );
    assert_eq!(
        s.publish,
        vec![
            sport(Some(8080), 80),
            ServicePort { published: Some(8081), target: 81, protocol: Protocol::Udp, mode: PublishMode::Host },
            sport(Some(9000), 90),
            sport(Some(9001), 91),
            sport(None, 53),
        ]
    );
    assert_eq!(s.mode.replicas(), Some(1));

    // Flags after the image are the task's command.
    let s = svc_of("docker service create --name pinger alpine ping --count 3 docker.com");
    assert_eq!(s.command.words, ["ping", "--count", "3", "docker.com"]);

    assert_eq!(
        ok("docker service scale web=3 db=0"),
        DockerCommand::ServiceScale(ServiceScale {
            targets: vec![
                ServiceScaleTarget { service: "web".into(), replicas: 3 },
                ServiceScaleTarget { service: "db".into(), replicas: 0 },
            ],
            detach: false,
        })
    );
    assert_eq!(ok("docker service rm web"), DockerCommand::ServiceRm(ServiceRm { services: vec!["web".into()] }));
    assert!(
        matches!(ok("docker service ps web"), DockerCommand::ServicePs(ServicePs { ref services, .. }) if services == &["web"])
    );
    assert_eq!(ok("docker service ls"), DockerCommand::ServiceLs(ServiceLs::default()));
    assert_eq!(ok("docker node ls"), DockerCommand::NodeLs(NodeLs::default()));
    assert_eq!(
        ok("docker node update --availability drain worker1"),
        DockerCommand::NodeUpdate(NodeUpdate {
            node: "worker1".into(),
            availability: Some(NodeAvailability::Drain),
            role: None,
            label_add: vec![],
            label_rm: vec![],
        })
    );
}

// ---------------------------------------------------------------------------------------
// Errors: (line, message, text covered by the span)

#[test]
fn errors_with_spans() {
    let cases: &[(&str, &str, &str)] = &[
        // pflag
        ("docker run --foo nginx", "unknown flag: --foo", "--foo"),
        ("docker run --foo=bar nginx", "unknown flag: --foo", "--foo"),
        ("docker run -x nginx", "unknown shorthand flag: 'x' in -x", "x"),
        ("docker run -dxt nginx", "unknown shorthand flag: 'x' in -xt", "x"),
        ("docker run --name", "flag needs an argument: --name", "--name"),
        ("docker run -d -p", "flag needs an argument: 'p' in -p", "p"),
        ("docker ps ---all", "bad flag syntax: ---all", "---all"),
        (
            "docker run --rm=maybe nginx",
            "invalid argument \"maybe\" for \"--rm\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax",
            "maybe",
        ),
        (
            "docker run --ip abc --network n nginx",
            "invalid argument \"abc\" for \"--ip\" flag: failed to parse IP: \"abc\"",
            "abc",
        ),
        (
            "docker run --dns 8.8.8 nginx",
            "invalid argument \"8.8.8\" for \"--dns\" flag: IP address is not correctly formatted: 8.8.8",
            "8.8.8",
        ),
        (
            "docker run -e =x nginx",
            "invalid argument \"=x\" for \"-e, --env\" flag: invalid environment variable: =x",
            "=x",
        ),
        (
            "docker stop -t soon web",
            "invalid argument \"soon\" for \"-t, --timeout\" flag: strconv.ParseInt: parsing \"soon\": invalid syntax",
            "soon",
        ),
        (
            "docker service create --replicas abc nginx",
            "invalid argument \"abc\" for \"--replicas\" flag: strconv.ParseUint: parsing \"abc\": invalid syntax",
            "abc",
        ),
        (
            "docker swarm init --data-path-port 99999999999",
            "invalid argument \"99999999999\" for \"--data-path-port\" flag: strconv.ParseUint: parsing \"99999999999\": value out of range",
            "99999999999",
        ),
        // arity
        ("docker network create", "'docker network create' requires 1 argument", "docker network create"),
        ("docker network create a b", "'docker network create' requires 1 argument", "b"),
        ("docker network connect net", "'docker network connect' requires 2 arguments", "docker network connect"),
        ("docker run -d", "'docker run' requires at least 1 argument", "docker run"),
        ("docker exec web", "'docker exec' requires at least 2 arguments", "docker exec"),
        ("docker ps web", "'docker ps' accepts no arguments", "web"),
        ("docker network remove", "'docker network rm' requires at least 1 argument", "docker network remove"),
        ("docker swarm init 1.2.3.4", "'docker swarm init' accepts no arguments", "1.2.3.4"),
        // ports (run): nat.ParsePortSpec
        ("docker run -p abc nginx", "invalid containerPort: abc", "abc"),
        ("docker run -p 8080:abc nginx", "invalid containerPort: abc", "8080:abc"),
        ("docker run -p 99999:80 nginx", "invalid hostPort: 99999", "99999:80"),
        ("docker run -p 1.2.3:80:80 nginx", "invalid IP address: 1.2.3", "1.2.3:80:80"),
        ("docker run -p 80/icmp nginx", "invalid proto: icmp", "80/icmp"),
        (
            "docker run -p 8000-8001:80-85 nginx",
            "invalid ranges specified for container and host Ports: 80-85 and 8000-8001",
            "8000-8001:80-85",
        ),
        ("docker run -p 8080: nginx", "no port specified: 8080:<empty>", "8080:"),
        ("docker run -p published=80 nginx", "no port specified: 80:/tcp<empty>", "published=80"),
        (
            "docker run -p published=80,x nginx",
            "invalid publish opts format (should be name=value but got 'x')",
            "published=80,x",
        ),
        // ports (service): PortOpt via pflag
        (
            "docker service create -p abc nginx",
            "invalid argument \"abc\" for \"-p, --publish\" flag: invalid containerPort: abc",
            "abc",
        ),
        (
            "docker service create -p published=80,target=http nginx",
            "invalid argument \"published=80,target=http\" for \"-p, --publish\" flag: strconv.ParseUint: parsing \"http\": invalid syntax",
            "published=80,target=http",
        ),
        (
            "docker service create -p published=80 nginx",
            "invalid argument \"published=80\" for \"-p, --publish\" flag: missing mandatory field \"target\"",
            "published=80",
        ),
        (
            "docker service create -p mode=bogus,target=80 nginx",
            "invalid argument \"mode=bogus,target=80\" for \"-p, --publish\" flag: invalid publish mode value bogus",
            "mode=bogus,target=80",
        ),
        (
            "docker service create -p 127.0.0.1:80:80 nginx",
            "invalid argument \"127.0.0.1:80:80\" for \"-p, --publish\" flag: hostip is not supported",
            "127.0.0.1:80:80",
        ),
        // images
        ("docker run Nginx", "invalid reference format: repository name (library/Nginx) must be lowercase", "Nginx"),
        (
            "docker run myorg/MyApp:1",
            "invalid reference format: repository name (myorg/MyApp) must be lowercase",
            "myorg/MyApp:1",
        ),
        ("docker run nginx:", "invalid reference format", "nginx:"),
        ("docker run -d my_image!", "invalid reference format", "my_image!"),
        ("docker run a//b", "invalid reference format", "a//b"),
        ("docker service create --name x 'bad image'", "invalid reference format", "'bad image'"),
        // network create / ipam
        (
            "docker network create --gateway 10.0.0.1 n",
            "every ip-range or gateway must have a corresponding subnet",
            "docker network create",
        ),
        (
            "docker network create --subnet 10.0.0.0/8 --subnet 10.1.0.0/16 n",
            "multiple overlapping subnet configuration is not supported",
            "10.1.0.0/16",
        ),
        (
            "docker network create --subnet 10.0.0.0/24 --gateway 10.0.1.1 n",
            "no matching subnet for gateway 10.0.1.1",
            "10.0.1.1",
        ),
        (
            "docker network create --subnet 10.0.0.0/24 --ip-range 10.9.0.0/25 n",
            "no matching subnet for range 10.9.0.0/25",
            "10.9.0.0/25",
        ),
        (
            "docker network create --subnet 10.0.0.0/24 --aux-address a=10.9.0.1 n",
            "no matching subnet for aux-address 10.9.0.1",
            "a=10.9.0.1",
        ),
        (
            "docker network create --subnet 10.0.0.0/24 --gateway 10.0.0.1 --gateway 10.0.0.2 --subnet 10.1.0.0/24 n",
            "cannot configure multiple gateways (10.0.0.2, 10.0.0.1) for the same subnet (10.0.0.0/24)",
            "10.0.0.2",
        ),
        (
            "docker network create --subnet 10.0.0.0/33 n",
            "Error response from daemon: Invalid subnet 10.0.0.0/33 : invalid CIDR address: 10.0.0.0/33",
            "10.0.0.0/33",
        ),
        ("docker network create -d foo n", "Error response from daemon: plugin \"foo\" not found", "foo"),
        (
            "docker network create --label =x n",
            "invalid argument \"=x\" for \"--label\" flag: invalid label '=x': empty name",
            "=x",
        ),
        // run networking
        (
            "docker run --network host --network-alias x nginx",
            "network-scoped aliases are only supported for user-defined networks",
            "host",
        ),
        (
            "docker run --network-alias x nginx",
            "network-scoped aliases are only supported for user-defined networks",
            "docker run",
        ),
        (
            "docker run --network container:web --network-alias=x2 busybox",
            "network-scoped aliases are only supported for user-defined networks",
            "container:web",
        ),
        ("docker run --network a --network a nginx", "network \"a\" is specified multiple times", "a"),
        (
            "docker run --network a --network host nginx",
            "conflicting options: cannot attach both user-defined and non-user-defined network-modes",
            "a --network host",
        ),
        (
            "docker run --network name=a,alias=x --network-alias y nginx",
            "conflicting options: cannot specify both --network-alias and per-network alias",
            "name=a,alias=x",
        ),
        (
            "docker run --network name=a,foo=b nginx",
            "invalid argument \"name=a,foo=b\" for \"--network\" flag: invalid field key foo",
            "name=a,foo=b",
        ),
        (
            "docker run --network alias=x nginx",
            "invalid argument \"alias=x\" for \"--network\" flag: network name/id is not specified",
            "alias=x",
        ),
        (
            "docker run --ip 10.0.0.5 nginx",
            "Error response from daemon: user specified IP address is supported on user defined networks only",
            "docker run",
        ),
        ("docker run --mac-address 02:42 nginx", "02:42 is not a valid mac address", "02:42"),
        (
            "docker run --name a nginx",
            "Error response from daemon: Invalid container name (a), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
            "a",
        ),
        (
            "docker run --name 'my web' nginx",
            "Error response from daemon: Invalid container name (my web), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
            "'my web'",
        ),
        // swarm
        ("docker swarm join-token admin", "unknown role admin", "admin"),
        (
            "docker swarm init --availability sleepy",
            "invalid availability \"sleepy\", only active, pause and drain are supported",
            "sleepy",
        ),
        (
            "docker swarm init --advertise-addr 192.168.0.300",
            "advertise address must be a non-zero IP address or network interface (with optional port number)",
            "192.168.0.300",
        ),
        (
            "docker swarm init --advertise-addr 0.0.0.0",
            "advertise address must be a non-zero IP address or network interface (with optional port number)",
            "0.0.0.0",
        ),
        (
            "docker swarm init --data-path-addr 10.0.0.1:4789",
            "data path address must be a non-zero IP address or network interface (without a port number)",
            "10.0.0.1:4789",
        ),
        (
            "docker swarm init --default-addr-pool 10.0.0.0/33",
            "invalid argument \"10.0.0.0/33\" for \"--default-addr-pool\" flag: invalid string being converted to CIDR: 10.0.0.0/33",
            "10.0.0.0/33",
        ),
        (
            "docker swarm init --listen-addr 1.2.3.4:abc",
            "invalid argument \"1.2.3.4:abc\" for \"--listen-addr\" flag: invalid bind address (1.2.3.4:abc): parse \"tcp://1.2.3.4:abc\": invalid port \":abc\" after host",
            "1.2.3.4:abc",
        ),
        ("docker swarm join --token T", "'docker swarm join' requires 1 argument", "docker swarm join"),
        // services / nodes
        (
            "docker service create --mode global --replicas 2 nginx",
            "replicas can only be used with replicated or replicated-job mode",
            "2",
        ),
        (
            "docker service create --max-concurrent 2 alpine ping web",
            "max-concurrent can only be used with replicated-job mode",
            "2",
        ),
        (
            "docker service create --restart-delay 5 alpine",
            "invalid argument \"5\" for \"--restart-delay\" flag: time: missing unit in duration \"5\"",
            "5",
        ),
        ("docker service logs", "'docker service logs' requires 1 argument", "docker service logs"),
        (
            "docker service create --mode daemon nginx",
            "Unknown mode: daemon, only replicated and global supported",
            "daemon",
        ),
        ("docker service create --endpoint-mode rr nginx", "invalid ResolutionMode: \"rr\"", "rr"),
        (
            "docker service create --endpoint-mode dnsrr -p 80:80 nginx",
            "port published with ingress mode can't be used with dnsrr mode",
            "80:80",
        ),
        ("docker service scale web", "Invalid scale specifier 'web'.", "web"),
        ("docker service scale web=", "Invalid scale specifier 'web='.", "web="),
        (
            "docker service scale web=x",
            "web: invalid replicas value x: strconv.ParseUint: parsing \"x\": invalid syntax",
            "web=x",
        ),
        (
            "docker node update --availability off n1",
            "Error response from daemon: invalid Availability: \"off\"",
            "off",
        ),
        ("docker node update n1 n2", "'docker node update' requires 1 argument", "n2"),
        // dispatch
        ("docker foo", "unknown command: docker foo", "foo"),
        ("docker network frob", "unknown command: docker network frob", "frob"),
        ("docker volume create v", "netsim: \"docker volume\" is not supported", "volume"),
        ("docker container pause web", "netsim: \"docker container pause\" is not supported", "pause"),
        ("docker --context x ps", "unknown flag: --context", "--context"),
        ("podman run nginx", "netsim: expected a `docker …` command, found \"podman\"", "podman"),
        ("docker", "netsim: missing docker command (e.g. `docker run …`)", "docker"),
        ("docker network", "netsim: \"docker network\" requires a subcommand", "docker network"),
        ("docker ps --help", "netsim: --help is not supported in a scenario step", "--help"),
        // shell syntax
        (
            "docker ps | grep web",
            "netsim: shell syntax '|' is not supported in a scenario step; write one command per step",
            "|",
        ),
        (
            "docker run -e X=$HOME nginx",
            "netsim: shell expansion ('$…') is not supported in a scenario step; write the value literally",
            "$HOME",
        ),
        ("docker run --name 'web nginx", "netsim: unterminated quote: missing closing '", "'web nginx"),
    ];
    let mut failures = Vec::new();
    for &(line, msg, at) in cases {
        match parse(line) {
            Ok(v) => failures.push(format!("{line:?}: expected error {msg:?}, got {v:?}")),
            Err(e) => {
                let got_at = line.get(e.span.start..e.span.end()).unwrap_or("<bad span>");
                if e.message != msg || got_at != at {
                    failures
                        .push(format!("{line:?}:\n   got  {:?} at {got_at:?}\n   want {msg:?} at {at:?}", e.message));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn error_offsets_are_absolute() {
    let line = "docker run  --network  mynet  -p '8080:abc'  nginx";
    let e = parse(line).unwrap_err();
    assert_eq!(e.message, "invalid containerPort: abc");
    assert_eq!(e.span, Span::new(line.find("'8080").unwrap(), "'8080:abc'".len()));
    // Value attached with '=' points at the value only.
    let line = "docker run --rm=nah nginx";
    let e = parse(line).unwrap_err();
    assert_eq!(e.span, Span::new(line.find("nah").unwrap(), 3));
}

// ---------------------------------------------------------------------------------------
// Shell words

#[test]
fn shell_word_splitting() {
    let w = shell_words(r#"docker exec web sh -c "echo \"hi\" \$x" 'a b'c d\ e # comment"#).unwrap();
    let texts: Vec<&str> = w.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(texts, ["docker", "exec", "web", "sh", "-c", "echo \"hi\" $x", "a bc", "d e"]);
    assert_eq!(w[6].1, Span::new(r#"docker exec web sh -c "echo \"hi\" \$x" "#.len(), "'a b'c".len()));
    assert_eq!(shell_words("  ").unwrap(), vec![]);
    assert_eq!(shell_words("a '' b").unwrap().len(), 3);
}

// ---------------------------------------------------------------------------------------
// App commands

fn app(line: &str) -> Result<AppCommand, CliError> {
    exec_of(line).app_command().expect("recognised program")
}

#[test]
fn app_commands() {
    assert_eq!(
        app("docker exec web ping -c 3 db").unwrap(),
        AppCommand::Ping(Ping { host: "db".into(), count: Some(3), ..Ping::default() })
    );
    assert_eq!(
        app("docker exec web ping db -c2 -q").unwrap(),
        AppCommand::Ping(Ping { host: "db".into(), count: Some(2), quiet: true, ..Ping::default() })
    );
    assert_eq!(
        app("docker exec web ping -c1 -s 2000 -M do db").unwrap(),
        AppCommand::Ping(Ping {
            host: "db".into(),
            count: Some(1),
            size: Some(2000),
            pmtudisc: Some(crate::kernel::sock::Pmtudisc::Do),
            ..Ping::default()
        })
    );
    // iputils 20221126's words (run on this kernel: `ping -M foo`, `ping -s abc`, `ping -s -1`).
    for (line, err) in [
        ("docker exec web ping -M foo db", "ping: invalid -M argument: foo"),
        ("docker exec web ping -s abc db", "ping: invalid argument: 'abc'"),
        ("docker exec web ping -s -1 db", "ping: invalid argument: '-1': out of range: 0 <= value <= 2147483647"),
    ] {
        assert_eq!(app(line).expect_err(line).message, err);
    }
    let AppCommand::Curl(c) = app("docker exec web curl -sS -X POST -d a=1 -d b=2 http://api:8080/items?x=1").unwrap()
    else {
        panic!()
    };
    assert!(c.silent && c.show_error);
    assert_eq!(c.method(), "POST");
    assert_eq!(c.body().as_deref(), Some("a=1&b=2"));
    assert_eq!(
        c.urls,
        vec![Url { scheme: "http".into(), host: "api".into(), port: Some(8080), path: "/items?x=1".into() }]
    );
    let AppCommand::Curl(c) = app("docker exec web curl web:80").unwrap() else { panic!() };
    assert_eq!((c.method(), c.urls[0].effective_port(), c.urls[0].path.as_str()), ("GET", 80, "/"));
    let AppCommand::Curl(c) = app("docker exec web curl -XDELETE https://svc/x").unwrap() else { panic!() };
    assert_eq!((c.method(), c.urls[0].effective_port()), ("DELETE", 443));

    assert_eq!(
        app("docker exec web nslookup tasks.web").unwrap(),
        AppCommand::Nslookup(Nslookup {
            name: "tasks.web".into(),
            server: None,
            types: vec![],
            port: 53,
            timeout: 5,
            retry: 2
        })
    );
    assert_eq!(
        app("docker exec web nslookup -type=aaaa db 127.0.0.11").unwrap(),
        AppCommand::Nslookup(Nslookup {
            name: "db".into(),
            server: Some("127.0.0.11".into()),
            types: vec![28],
            port: 53,
            timeout: 5,
            retry: 2,
        })
    );
    assert_eq!(
        app("docker exec -it web mysql -h mysql -u root -psecret -e 'SHOW DATABASES;' app").unwrap(),
        AppCommand::Mysql(Mysql {
            host: Some("mysql".into()),
            user: Some("root".into()),
            password: Some("secret".into()),
            execute: Some("SHOW DATABASES;".into()),
            database: Some("app".into()),
            ..Mysql::default()
        })
    );
    let AppCommand::Mysql(m) = app("docker exec web mysql --host=db --port 3307 --user=app --password=pw -BN").unwrap()
    else {
        panic!()
    };
    assert_eq!((m.port, m.batch, m.skip_column_names), (Some(3307), true, true));
    assert!(exec_of("docker exec web sh").app_command().is_none());
    assert!(run_of("docker run busybox /bin/ping -c 1 x").app_command().unwrap().is_ok());
}

#[test]
fn app_errors() {
    let cases: &[(&str, &str, &str)] = &[
        ("docker exec web ping", "ping: usage error: Destination address required", "ping"),
        ("docker exec web ping -c abc db", "ping: invalid argument: 'abc'", "abc"),
        (
            "docker exec web ping -c 0 db",
            "ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807",
            "0",
        ),
        ("docker exec web ping -z db", "ping: invalid option -- 'z'", "-z"),
        ("docker exec web ping db -c", "ping: option requires an argument -- 'c'", "-c"),
        // iputils 20221126's words for -W and -i, as it printed them here.
        ("docker exec web ping -W x db", "ping: option argument contains garbage: x", "x"),
        ("docker exec web ping -W -1 db", "ping: bad linger time: -1", "-1"),
        ("docker exec web ping -W 2147483648 db", "ping: bad linger time: 2147483648", "2147483648"),
        ("docker exec web ping -i x db", "ping: option argument contains garbage: x", "x"),
        ("docker exec web ping -i 1e9 db", "ping: bad timing interval: 1e9", "1e9"),
        ("docker exec web curl -s", "curl: no URL specified!", "curl -s"),
        ("docker exec web curl --frobnicate x", "curl: option --frobnicate: is unknown", "--frobnicate"),
        ("docker exec web curl x -X", "curl: option -X: requires parameter", "-X"),
        ("docker exec web curl ftp://x/", "curl: (1) Protocol \"ftp\" not supported", "ftp://x/"),
        (
            "docker exec web curl http://x:99999/",
            "curl: (3) URL rejected: Port number was not a decimal number between 0 and 65535",
            "http://x:99999/",
        ),
        ("docker exec web curl http:///p", "curl: (3) URL rejected: No host part in the URL", "http:///p"),
        (
            "docker exec web nslookup",
            "netsim: nslookup: interactive mode is not supported; give the name to look up",
            "nslookup",
        ),
        ("docker exec web nslookup -type=BOGUS db", "nslookup: invalid query type \"BOGUS\"", "-type=BOGUS"),
        ("docker exec web nslookup -frob db", "*** Invalid option: frob", "-frob"),
        ("docker exec web mysql --frob", "mysql: [ERROR] unknown option '--frob'.", "--frob"),
        ("docker exec web mysql -Z", "mysql: [ERROR] unknown option '-Z'.", "-Z"),
        ("docker exec web mysql -u", "mysql: [ERROR] mysql: option '-u' requires an argument.", "-u"),
        (
            "docker exec web mysql -p",
            "netsim: mysql: interactive password prompt is not supported; write -pPASSWORD",
            "-p",
        ),
        ("docker exec web mysql -P abc", "mysql: [ERROR] mysql: Error while setting value 'abc' to 'port'.", "-P"),
    ];
    let mut failures = Vec::new();
    for &(line, msg, at) in cases {
        match app(line) {
            Ok(v) => failures.push(format!("{line:?}: expected error, got {v:?}")),
            Err(e) => {
                let got_at = line.get(e.span.start..e.span.end()).unwrap_or("<bad span>");
                if e.message != msg || got_at != at {
                    failures
                        .push(format!("{line:?}:\n   got  {:?} at {got_at:?}\n   want {msg:?} at {at:?}", e.message));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

// ---------------------------------------------------------------------------------------
// Robustness

/// Deterministic xorshift.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const CORPUS: &[&str] = &[
    "docker swarm init --advertise-addr 192.168.0.10 --default-addr-pool 10.10.0.0/16",
    "docker swarm join --token SWMTKN-1-abc 192.168.0.10:2377",
    "docker network create -d overlay --attachable --subnet 10.0.9.0/24 --gateway 10.0.9.1 mynet",
    "docker network create -d macvlan --subnet 192.168.1.0/24 --gateway 192.168.1.1 -o parent=eth0.10 macnet",
    "docker run -d --name web --network mynet -p 8001:80 -p 127.0.0.1:9000-9001:90-91/udp webapp",
    "docker run -dit --rm --network name=n,alias=a --ip 10.0.0.2 -e A=1 busybox sh -c 'ping -c 1 x'",
    "docker service create --name webapp --replicas 1 --network mynet -p 8001:80 myimage",
    "docker service create --name s -p mode=host,published=80,target=8080,protocol=udp nginx:1.25@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "docker exec -it web mysql -h db -u root -psecret -e \"SELECT 1\" app",
    "docker exec web curl -sS -X POST -d x=1 http://api:8080/a",
    "docker exec web nslookup -type=A tasks.web 127.0.0.11",
    "docker exec web ping -c 3 -W 1 db",
    "docker service scale web=3 db=1",
    "docker node update --availability drain worker1",
    "docker network connect --ip 10.0.0.9 --alias x net c",
];

const NOISE: &[&str] = &[
    "-", "--", "=", ":", "/", ",", "'", "\"", "\\", " ", "-d", "-p", "--name", "0", "99999", "é", "[", "]", "@", "#",
    "$",
];

fn exercise(line: &str) {
    if let Ok(cmd) = parse(line) {
        let argv = match &cmd {
            DockerCommand::Exec(e) => Some(&e.command),
            DockerCommand::Run(r) => Some(&r.command),
            _ => None,
        };
        if let Some(a) = argv
            && let Some(Err(e)) = parse_app_command(a)
        {
            assert!(e.span.end() <= line.len(), "{line:?}: span out of range");
        }
    } else if let Err(e) = parse(line) {
        assert!(e.span.end() <= line.len(), "{line:?}: span {:?} out of range", e.span);
        assert!(line.is_char_boundary(e.span.start) && line.is_char_boundary(e.span.end()), "{line:?}: {:?}", e.span);
    }
}

#[test]
fn fuzz_truncations_and_garbling_do_not_panic() {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for line in CORPUS {
        exercise(line);
        for (i, _) in line.char_indices() {
            exercise(&line[..i]);
            exercise(&line[i..]);
        }
        for _ in 0..400 {
            let mut s: String = (*line).to_string();
            for _ in 0..1 + rng.below(4) {
                let bounds: Vec<usize> = s.char_indices().map(|(i, _)| i).chain([s.len()]).collect();
                let at = bounds[rng.below(bounds.len())];
                match rng.below(3) {
                    0 => s.insert_str(at, NOISE[rng.below(NOISE.len())]),
                    1 => {
                        let end = bounds.iter().copied().find(|&b| b > at).unwrap_or(s.len());
                        s.replace_range(at..end, "");
                    }
                    _ => {
                        let words: Vec<&str> = s.split(' ').collect();
                        let w = words[rng.below(words.len())].to_string();
                        s.insert_str(at, &format!(" {w} "));
                    }
                }
            }
            exercise(&s);
        }
    }
}
