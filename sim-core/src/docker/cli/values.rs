//! Value parsers reproducing the Go helpers Docker uses (strconv, net, go-connections/nat,
//! docker/cli `opts`), including their error strings.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr};

use super::types::{
    Cidr, EnvVar, MacAddr, NetworkAttachment, NetworkMode, PortRange, PortSpec, Protocol, PublishMode, ServicePort,
};

/// Go's `%q` for a string.
pub(super) fn go_quote(s: &str) -> String {
    crate::docker::template::go_quote(s)
}

/// Go's `%q` for a byte/rune: `'x'`.
pub(super) fn go_quote_char(c: char) -> String {
    match c {
        '\'' => "'\\''".to_string(),
        '\\' => "'\\\\'".to_string(),
        c => format!("'{c}'"),
    }
}

/// `strconv.ParseBool`.
pub(super) fn parse_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("strconv.ParseBool: parsing {}: invalid syntax", go_quote(s))),
    }
}

/// `strconv.ParseUint(s, base, bits)` for base 10 or 0 (0: `0x`, `0o`, `0b` and leading-`0`
/// octal prefixes; Go's `_` digit separators are not accepted here).
pub(super) fn parse_uint(s: &str, base0: bool, bits: u32) -> Result<u64, String> {
    let syntax = || format!("strconv.ParseUint: parsing {}: invalid syntax", go_quote(s));
    let range = || format!("strconv.ParseUint: parsing {}: value out of range", go_quote(s));
    let (digits, radix) = if base0 {
        let lower = s.get(..2).map(str::to_ascii_lowercase);
        match lower.as_deref() {
            Some("0x") => (&s[2..], 16),
            Some("0o") => (&s[2..], 8),
            Some("0b") => (&s[2..], 2),
            _ if s.len() > 1 && s.starts_with('0') => (&s[1..], 8),
            _ => (s, 10),
        }
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(syntax());
    }
    let v = u64::from_str_radix(digits, radix).map_err(|_| range())?;
    if bits < 64 && v >= (1u64 << bits) {
        return Err(range());
    }
    Ok(v)
}

/// `strconv.ParseInt(s, 0, 64)` (same prefix rules as [`parse_uint`]).
pub(super) fn parse_int(s: &str) -> Result<i64, String> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let v = parse_uint(body, true, 64).map_err(|e| {
        let kind = if e.ends_with("out of range") { "value out of range" } else { "invalid syntax" };
        format!("strconv.ParseInt: parsing {}: {kind}", go_quote(s))
    })?;
    let range = || format!("strconv.ParseInt: parsing {}: value out of range", go_quote(s));
    if neg {
        if v > 1u64 << 63 {
            return Err(range());
        }
        Ok((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).map_err(|_| range())
    }
}

/// `net.ParseIP` (dotted-decimal IPv4 without leading zeros, or IPv6 without zone).
pub(super) fn parse_ip(s: &str) -> Option<IpAddr> {
    if s.contains('%') {
        return None;
    }
    s.parse::<IpAddr>().ok()
}

/// `net.ParseCIDR`; the error is `invalid CIDR address: <s>`.
pub(super) fn parse_cidr(s: &str) -> Result<Cidr, String> {
    let err = || format!("invalid CIDR address: {s}");
    let (addr, bits) = s.split_once('/').ok_or_else(err)?;
    let addr = parse_ip(addr).ok_or_else(err)?;
    if bits.is_empty() || bits.len() > 6 || !bits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    let n: u32 = bits.parse().map_err(|_| err())?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    if n > max {
        return Err(err());
    }
    Ok(Cidr { addr, prefix_len: n as u8 })
}

/// `net.ParseMAC`, restricted to 6-byte EUI-48 (`:`/`-` separated pairs or `.`-separated
/// quads).
pub(super) fn parse_mac(s: &str) -> Option<MacAddr> {
    let hex = |p: &str| -> Option<Vec<u8>> {
        if !p.len().is_multiple_of(2) || p.is_empty() {
            return None;
        }
        (0..p.len()).step_by(2).map(|i| u8::from_str_radix(p.get(i..i + 2)?, 16).ok()).collect()
    };
    let bytes: Vec<u8> = if s.contains(':') || s.contains('-') {
        let sep = if s.contains(':') { ':' } else { '-' };
        let parts: Vec<&str> = s.split(sep).collect();
        if parts.len() != 6 || parts.iter().any(|p| p.len() != 2) {
            return None;
        }
        parts.iter().map(|p| hex(p)).collect::<Option<Vec<_>>>()?.concat()
    } else if s.contains('.') {
        let parts: Vec<&str> = s.split('.').collect();
        if parts.len() != 3 || parts.iter().any(|p| p.len() != 4) {
            return None;
        }
        parts.iter().map(|p| hex(p)).collect::<Option<Vec<_>>>()?.concat()
    } else {
        return None;
    };
    Some(MacAddr(bytes.try_into().ok()?))
}

/// Split a value like pflag's `readAsCSV` (encoding/csv, one record). Error strings follow
/// encoding/csv's `ParseError` ("parse error on line 1, column N: …").
pub(super) fn read_csv(s: &str) -> Result<Vec<String>, String> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let mut field = String::new();
        if chars.get(i) == Some(&'"') {
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(format!(
                            "parse error on line 1, column {}: extraneous or missing \" in quoted-field",
                            i + 1
                        ));
                    }
                    Some('"') if chars.get(i + 1) == Some(&'"') => {
                        field.push('"');
                        i += 2;
                    }
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some(&c) => {
                        field.push(c);
                        i += 1;
                    }
                }
            }
            match chars.get(i) {
                None | Some(',') => {}
                Some(_) => {
                    return Err(format!(
                        "parse error on line 1, column {}: extraneous or missing \" in quoted-field",
                        i + 1
                    ));
                }
            }
        } else {
            while let Some(&c) = chars.get(i) {
                if c == ',' {
                    break;
                }
                if c == '"' {
                    return Err(format!("parse error on line 1, column {}: bare \" in non-quoted-field", i + 1));
                }
                field.push(c);
                i += 1;
            }
        }
        out.push(field);
        if chars.get(i) == Some(&',') {
            i += 1;
            continue;
        }
        return Ok(out);
    }
}

/// `opts.ValidateEnv`.
pub(super) fn validate_env(s: &str) -> Result<EnvVar, String> {
    match s.split_once('=') {
        Some(("", _)) => Err(format!("invalid environment variable: {s}")),
        Some((k, v)) => Ok(EnvVar { key: k.to_string(), value: Some(v.to_string()) }),
        None if s.is_empty() => Err(format!("invalid environment variable: {s}")),
        None => Ok(EnvVar { key: s.to_string(), value: None }),
    }
}

/// `opts.ValidateLabel` (docker/cli ≥ v24 wording; from memory).
pub(super) fn validate_label(s: &str) -> Result<(String, String), String> {
    let (k, v) = s.split_once('=').unwrap_or((s, ""));
    let key = k.trim();
    if key.is_empty() {
        return Err(format!("invalid label '{s}': empty name"));
    }
    if key.chars().any(|c| " \t\n\x0b\x0c\r".contains(c)) {
        return Err(format!("label '{key}' contains whitespaces"));
    }
    Ok((k.to_string(), v.to_string()))
}

/// `opts.ValidateIPAddress` (used by `--dns`).
pub(super) fn validate_ip_address(s: &str) -> Result<IpAddr, String> {
    parse_ip(s.trim()).ok_or_else(|| format!("IP address is not correctly formatted: {s}"))
}

/// pflag's `IPVar` (`--ip`, `--ip6`): empty means unset.
pub(super) fn pflag_ip(s: &str) -> Result<Option<IpAddr>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    parse_ip(s.trim()).map(Some).ok_or_else(|| format!("failed to parse IP: {}", go_quote(s)))
}

/// The unanchored regexp `\w+=\w+(,\w+=\w+)*` Docker uses to detect the long (csv) syntax of
/// `--publish` and `--network`: true iff some `=` has a word character on both sides.
pub(super) fn is_long_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    let w = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    (1..b.len().saturating_sub(1)).any(|i| b[i] == b'=' && w(b[i - 1]) && w(b[i + 1]))
}

/// go-connections `ParsePortRange`: its errors are always replaced by the caller's, so only
/// success matters. Note the quirk that `1-2-3` parses as `1-2`.
fn parse_port_range(s: &str) -> Option<PortRange> {
    if s.is_empty() {
        return None;
    }
    match s.split_once('-') {
        None => parse_uint(s, false, 16).ok().map(|p| PortRange::single(p as u16)),
        Some((a, rest)) => {
            let b = rest.split('-').next().unwrap_or("");
            let start = parse_uint(a, false, 16).ok()? as u16;
            let end = parse_uint(b, false, 16).ok()? as u16;
            (end >= start).then_some(PortRange { start, end })
        }
    }
}

fn parse_proto(p: &str) -> Option<Protocol> {
    match p {
        "tcp" => Some(Protocol::Tcp),
        "udp" => Some(Protocol::Udp),
        "sctp" => Some(Protocol::Sctp),
        _ => None,
    }
}

/// go-connections `nat.ParsePortSpec` (v0.5 ordering and lower-case messages).
pub(super) fn parse_port_spec(raw: &str) -> Result<PortSpec, String> {
    let parts: Vec<&str> = raw.split(':').collect();
    let n = parts.len();
    let (ip, host_port, container) = match n {
        1 => (String::new(), "", parts[0]),
        2 => (String::new(), parts[0], parts[1]),
        3 => (parts[0].to_string(), parts[1], parts[2]),
        _ => (parts[..n - 2].join(":"), parts[n - 2], parts[n - 1]),
    };
    // SplitProtoPort
    let (port, proto) = container.split_once('/').unwrap_or((container, ""));
    let (proto, port) = if port.is_empty() {
        (String::new(), "")
    } else if proto.is_empty() {
        ("tcp".to_string(), port)
    } else {
        (proto.to_ascii_lowercase(), port)
    };
    // go-connections v0.5 validates the protocol first, so an empty port reports
    // "invalid proto: " there; older releases (and this parser) say "no port specified".
    if port.is_empty() {
        return Err(format!("no port specified: {raw}<empty>"));
    }
    let protocol = parse_proto(&proto).ok_or_else(|| format!("invalid proto: {proto}"))?;
    let mut ip = ip;
    if ip.starts_with('[') {
        // net.SplitHostPort(ip + ":")
        match ip.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            Some(inner) if !inner.contains(['[', ']']) => ip = inner.to_string(),
            _ => {
                return Err(format!("invalid IP address {ip}: address {ip}:: missing ']' in address"));
            }
        }
    }
    let host_ip =
        if ip.is_empty() { None } else { Some(parse_ip(&ip).ok_or_else(|| format!("invalid IP address: {ip}"))?) };
    if port.is_empty() {
        return Err(format!("no port specified: {raw}<empty>"));
    }
    let container_ports = parse_port_range(port).ok_or_else(|| format!("invalid containerPort: {port}"))?;
    let host_ports = if host_port.is_empty() {
        None
    } else {
        let h = parse_port_range(host_port).ok_or_else(|| format!("invalid hostPort: {host_port}"))?;
        if h.count() != container_ports.count() && !container_ports.is_single() {
            return Err(format!("invalid ranges specified for container and host Ports: {port} and {host_port}"));
        }
        Some(h)
    };
    Ok(PortSpec { host_ip, host_ports, container_ports, protocol })
}

/// docker/cli `convertToStandardNotation` for one `docker run -p` value: the long syntax
/// `published=8080,target=80[,protocol=udp]` becomes `8080:80/udp`.
pub(super) fn convert_to_standard_notation(s: &str) -> Result<String, String> {
    if !s.contains('=') {
        return Ok(s.to_string());
    }
    let mut params: BTreeMap<&str, &str> = BTreeMap::from([("protocol", "tcp")]);
    for param in s.split(',') {
        match param.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                params.insert(k, v);
            }
            _ => return Err(format!("invalid publish opts format (should be name=value but got '{param}')")),
        }
    }
    let get = |k: &str| params.get(k).copied().unwrap_or("");
    Ok(format!("{}:{}/{}", get("published"), get("target"), get("protocol")))
}

/// docker/cli `opts.PortOpt.Set` (`docker service create -p`).
pub(super) fn parse_service_port(value: &str) -> Result<Vec<ServicePort>, String> {
    if is_long_syntax(value) {
        let fields = read_csv(value)?;
        let mut published = 0u16;
        let mut target = 0u16;
        let mut protocol = None;
        let mut mode = None;
        for field in fields {
            let lower = field.to_lowercase();
            let (key, val) = match lower.split_once('=') {
                Some((k, v)) if !k.is_empty() => (k, v),
                _ => return Err(format!("invalid field {field}")),
            };
            match key {
                "protocol" => {
                    protocol = Some(parse_proto(val).ok_or_else(|| format!("invalid protocol value {val}"))?);
                }
                "mode" => {
                    mode = Some(match val {
                        "ingress" => PublishMode::Ingress,
                        "host" => PublishMode::Host,
                        _ => return Err(format!("invalid publish mode value {val}")),
                    });
                }
                "target" => target = parse_uint(val, false, 16)? as u16,
                "published" => published = parse_uint(val, false, 16)? as u16,
                _ => return Err(format!("invalid field key {key}")),
            }
        }
        if target == 0 {
            return Err("missing mandatory field \"target\"".to_string());
        }
        return Ok(vec![ServicePort {
            published: (published != 0).then_some(published),
            target,
            protocol: protocol.unwrap_or_default(),
            mode: mode.unwrap_or_default(),
        }]);
    }
    let spec = parse_port_spec(value)?;
    if spec.host_ip.is_some() {
        return Err("hostip is not supported".to_string());
    }
    // ConvertPortToPortConfig: one config per container port and host port.
    let mut out = Vec::new();
    for m in spec.mappings() {
        match m.host_port {
            None => out.push(ServicePort {
                published: None,
                target: m.container_port,
                protocol: m.protocol,
                mode: PublishMode::Ingress,
            }),
            Some(r) => {
                for p in r.start..=r.end {
                    out.push(ServicePort {
                        published: (p != 0).then_some(p),
                        target: m.container_port,
                        protocol: m.protocol,
                        mode: PublishMode::Ingress,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// A `--network` value (docker/cli `opts.NetworkOpt.Set`) before Docker's
/// container-specific validation.
#[derive(Debug, Clone, Default)]
pub(super) struct NetOpt {
    pub target: String,
    pub aliases: Vec<String>,
    pub ipv4: Option<IpAddr>,
    pub ipv6: Option<IpAddr>,
    pub mac: Option<String>,
    pub driver_opts: BTreeMap<String, String>,
}

/// `opts.NetworkOpt.Set`. The per-field IP validation messages are from memory.
pub(super) fn parse_network_opt(value: &str) -> Result<NetOpt, String> {
    let mut n = NetOpt::default();
    if !is_long_syntax(value) {
        n.target = value.to_string();
        return Ok(n);
    }
    for field in read_csv(value)? {
        let lower = field.to_lowercase();
        let (key, val) = match lower.split_once('=') {
            Some((k, v)) if !k.is_empty() => (k.trim().to_string(), v.to_string()),
            _ => return Err(format!("invalid field {field}")),
        };
        // Docker lower-cases the whole field; keep the original-case value where it matters.
        let orig_val = field.split_once('=').map(|(_, v)| v.to_string()).unwrap_or_default();
        match key.as_str() {
            "name" => n.target = orig_val,
            "alias" => n.aliases.push(orig_val),
            "ip" => n.ipv4 = Some(parse_ip(&val).ok_or_else(|| format!("invalid IPv4address: {val}"))?),
            "ip6" => n.ipv6 = Some(parse_ip(&val).ok_or_else(|| format!("invalid IPv6address: {val}"))?),
            "mac-address" => n.mac = Some(val),
            "driver-opt" => {
                let (k, v) =
                    val.split_once('=').ok_or_else(|| "invalid key value pair format in driver options".to_string())?;
                n.driver_opts.insert(k.trim().to_string(), v.trim().to_string());
            }
            _ => return Err(format!("invalid field key {key}")),
        }
    }
    if n.target.is_empty() {
        return Err("network name/id is not specified".to_string());
    }
    Ok(n)
}

impl NetOpt {
    pub(super) fn into_attachment(self) -> Result<NetworkAttachment, String> {
        let mac_address = match &self.mac {
            None => None,
            Some(m) => Some(parse_mac(m).ok_or_else(|| format!("{m} is not a valid mac address"))?),
        };
        Ok(NetworkAttachment {
            mode: NetworkMode::from_target(&self.target),
            aliases: self.aliases,
            ipv4_address: self.ipv4,
            ipv6_address: self.ipv6,
            mac_address,
            driver_opts: self.driver_opts,
        })
    }
}

/// Split `HOST[:PORT]` (with `[v6]:port` support) like `net.SplitHostPort`, port optional.
pub(super) fn split_host_port(s: &str) -> Option<(String, Option<String>)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        h.parse::<Ipv6Addr>().ok()?;
        return match after {
            "" => Some((h.to_string(), None)),
            a => Some((h.to_string(), Some(a.strip_prefix(':')?.to_string()))),
        };
    }
    if s.matches(':').count() > 1 {
        // Bare IPv6 address without port.
        return Some((s.to_string(), None));
    }
    match s.split_once(':') {
        Some((h, p)) => Some((h.to_string(), Some(p.to_string()))),
        None => Some((s.to_string(), None)),
    }
}
