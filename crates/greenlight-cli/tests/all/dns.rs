//! A real authoritative DNS server on loopback for the `email` probe's tests: hickory-server
//! serving zone files (RFC 1035 master format) written here, over UDP and TCP on one port, with
//! a well set-up sending domain and broken ones; and a "blackholed" UDP socket that receives
//! queries and never answers. Started once per test process, on its own runtime.

use std::sync::{Arc, OnceLock};

use hickory_server::proto::rr::{LowerName, Name};
use hickory_server::store::file::{FileConfig, FileZoneHandler};
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use hickory_server::Server;

pub struct Dns {
    /// The authoritative server: `127.0.0.1:PORT`.
    pub addr: String,
    /// A UDP socket that never answers: `127.0.0.1:PORT`.
    pub blackhole: String,
    _dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
    _blackhole: std::net::UdpSocket,
}

/// A 2048-bit RSA public key (SubjectPublicKeyInfo, base64), as DKIM publishes it: generated
/// once with `openssl genrsa 2048 | openssl rsa -pubout`. Its private half was thrown away.
const DKIM_KEY: &str = concat!("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAlvEYDJhkRC4BnraM+IiZMngx3M603SIYS4tFWrzNd++ZKKHVnrR6cD9wgBdpLyK6W7QnV75VnKh15x2IofwfIQ5a1xObaavng4BlH6hwqTzBAwLMeOdYbQYx0K8F+jHre4mBnjwmlIGXgji6G/zVQg6zd2bS", "ZBwAyLXxGqYpd4xiYk/Ypi4SbsSB0JVb3mUvtN2Q067Lu/4TIXRqY7yUeRm3zw5KHYMtQjBpY353xjyGzILqJp9QH4umtO/vSZG5nQ88xgbod1ozFOK3QhV2qcKT2tV5gDc4yZFMWqSmX0p38/0GJuj87JvRKpAANbxlF4YtetF8JS6TSpqKR45XiQIDAQAB");

/// The test zones. `greenlight.test` (RFC 2606's reserved TLD) holds one sending domain per
/// case; `mailchannels.net` and `sendgrid.net` stand in for the providers' SPF records, which
/// the probe follows through `include:` — on this server only, never the real ones.
fn zones() -> Vec<(&'static str, String)> {
    let dkim = std::iter::once("\"v=DKIM1; k=rsa; p=\"".to_owned())
        .chain(
            DKIM_KEY
                .as_bytes()
                .chunks(200)
                .map(|c| format!("\"{}\"", std::str::from_utf8(c).unwrap())),
        )
        .collect::<Vec<_>>()
        .join(" ");
    let greenlight = format!(
        r#"$ORIGIN greenlight.test.
$TTL 60
@ IN SOA ns.greenlight.test. hostmaster.greenlight.test. 1 3600 600 86400 60
@ IN NS ns.greenlight.test.
ns IN A 127.0.0.1
; good: every record in place.
good IN TXT "v=spf1 include:relay.mailchannels.net include:_spf.good.greenlight.test ~all"
good IN TXT "google-site-verification=not-an-spf-record"
_spf.good IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc.good IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@good.greenlight.test"
mc._domainkey.good IN TXT {dkim}
_mailchannels.good IN TXT "v=mc1 auth=acme"
good IN MX 10 mx.good.greenlight.test.
mx.good IN A 127.0.0.1
; mail.good: a subdomain that sends, with DMARC only at its parent.
mail.good IN TXT "v=spf1 include:relay.mailchannels.net -all"
mc._domainkey.mail.good IN TXT {dkim}
_mailchannels.mail.good IN TXT "v=mc1 auth=acme"
; weak: present but not enforcing.
weak IN TXT "v=spf1 include:relay.mailchannels.net ?all"
_dmarc.weak IN TXT "v=DMARC1; p=none"
mc._domainkey.weak IN TXT {dkim}
_mailchannels.weak IN TXT "v=mc1 auth=acme"
; broken: MailChannels not in SPF, revoked DKIM key, no DMARC, retired lockdown, null MX.
broken IN TXT "v=spf1 include:sendgrid.net -all"
mc._domainkey.broken IN TXT "v=DKIM1; k=rsa; p="
_mailchannels.broken IN TXT "v=mc1 cfid=app.workers.dev"
broken IN MX 0 .
; toomany: a chain of includes that needs more than ten lookups.
toomany IN TXT "v=spf1 a mx include:relay.mailchannels.net include:c1.toomany.greenlight.test -all"
c1.toomany IN TXT "v=spf1 a mx include:c2.toomany.greenlight.test"
c2.toomany IN TXT "v=spf1 a mx include:c3.toomany.greenlight.test"
c3.toomany IN TXT "v=spf1 a mx include:c4.toomany.greenlight.test"
c4.toomany IN TXT "v=spf1 ip4:192.0.2.9"
_dmarc.toomany IN TXT "v=DMARC1; p=quarantine"
; twospf: two SPF records, a permanent error.
twospf IN TXT "v=spf1 include:relay.mailchannels.net ~all"
twospf IN TXT "v=spf1 -all"
_dmarc.twospf IN TXT "v=DMARC1; p=reject"
"#
    );
    let mailchannels = r#"$ORIGIN mailchannels.net.
$TTL 60
@ IN SOA ns.mailchannels.net. hostmaster.mailchannels.net. 1 3600 600 86400 60
@ IN NS ns.mailchannels.net.
relay IN TXT "v=spf1 ip4:203.0.113.0/24 ~all"
"#
    .to_owned();
    let sendgrid = r#"$ORIGIN sendgrid.net.
$TTL 60
@ IN SOA ns.sendgrid.net. hostmaster.sendgrid.net. 1 3600 600 86400 60
@ IN NS ns.sendgrid.net.
@ IN TXT "v=spf1 ip4:198.51.100.0/24 ~all"
"#
    .to_owned();
    vec![
        ("greenlight.test.", greenlight),
        ("mailchannels.net.", mailchannels),
        ("sendgrid.net.", sendgrid),
    ]
}

pub fn dns() -> &'static Dns {
    static DNS: OnceLock<Dns> = OnceLock::new();
    DNS.get_or_init(start)
}

fn start() -> Dns {
    assert!(DKIM_KEY.len() > 300);
    let dir = tempfile::tempdir().unwrap();
    let mut catalog = Catalog::new();
    for (origin, text) in zones() {
        let path = dir.path().join(format!("{}zone", origin));
        std::fs::write(&path, text).unwrap();
        let name = Name::from_ascii(origin).unwrap();
        let handler = FileZoneHandler::try_from_config(
            name.clone(),
            ZoneType::Primary,
            AxfrPolicy::Deny,
            None,
            &FileConfig { zone_path: path },
        )
        .unwrap_or_else(|e| panic!("zone {origin}: {e}"));
        catalog.upsert(LowerName::new(&name), vec![Arc::new(handler)]);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // UDP and TCP on the same port: a few tries in case the TCP port is taken.
    let (udp, tcp) = runtime.block_on(async {
        for _ in 0..20 {
            let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let port = udp.local_addr().unwrap().port();
            if let Ok(tcp) = tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
                return (udp, tcp);
            }
        }
        panic!("no free UDP+TCP port pair on loopback");
    });
    let addr = udp.local_addr().unwrap().to_string();
    {
        let _guard = runtime.enter();
        let mut server = Server::new(catalog);
        server.register_socket(udp);
        server.register_listener(tcp, std::time::Duration::from_secs(5), 64);
        // The server's tasks live in its JoinSet, which aborts them when dropped: it must outlive
        // every test of the process.
        std::mem::forget(server);
    }
    let blackhole = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    Dns {
        addr,
        blackhole: blackhole.local_addr().unwrap().to_string(),
        _dir: dir,
        _runtime: runtime,
        _blackhole: blackhole,
    }
}
